/* response -- building responses. See response.h for the contracts. */
#include "response.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int http_format_date(time_t t, char *out)
{
    struct tm tm;
    char tmp[96];
    /* Not strftime("%a"): its names follow the locale, HTTP's are English.
     * tmp is large enough for any int; years past 9999 are cut when it is
     * copied. (snprintf() straight into out would cut them as well, and
     * gcc -O2 warns that it may: -Wformat-truncation.) */
    gmtime_r(&t, &tm);
    snprintf(tmp, sizeof tmp, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, tmp, HTTP_DATE_LEN);
    out[HTTP_DATE_LEN] = '\0';
    return HTTP_DATE_LEN;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil): timegm() is not in POSIX. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int month_of(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (memcmp(s, months[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Reads exactly n digits from s. Returns the number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int http_parse_date(struct http_slice v, time_t *t)
{
    char s[64];
    int day, mon, year, hh, mm, ss;

    if (v.n >= sizeof s)
        return -1;
    memcpy(s, v.p, v.n);
    s[v.n] = '\0';

    if (v.n == 29 && s[3] == ',' && s[4] == ' ' && strcmp(s + 25, " GMT") == 0) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        day = digits(s + 5, 2);
        mon = month_of(s + 8);
        year = digits(s + 12, 4);
        hh = digits(s + 17, 2);
        mm = digits(s + 20, 2);
        ss = digits(s + 23, 2);
        if (s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':')
            return -1;
    } else if (v.n == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ') {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        mon = month_of(s + 4);
        day = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
        hh = digits(s + 11, 2);
        mm = digits(s + 14, 2);
        ss = digits(s + 17, 2);
        year = digits(s + 20, 4);
        if (s[13] != ':' || s[16] != ':' || s[19] != ' ')
            return -1;
    } else {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        const char *c = strchr(s, ',');
        if (!c || strlen(c) != 24 || c[1] != ' ' || c[4] != '-' || c[8] != '-' ||
            c[11] != ' ' || c[14] != ':' || c[17] != ':' || strcmp(c + 20, " GMT") != 0)
            return -1;
        day = digits(c + 2, 2);
        mon = month_of(c + 5);
        year = digits(c + 9, 2);
        hh = digits(c + 12, 2);
        mm = digits(c + 15, 2);
        ss = digits(c + 18, 2);
        /* RFC 9110: a two-digit year more than 50 years ahead is in the past */
        if (year >= 0)
            year += year < 70 ? 2000 : 1900;
    }
    if (day < 1 || day > 31 || mon < 1 || year < 1970 || hh < 0 || hh > 23 || mm < 0 ||
        mm > 59 || ss < 0 || ss > 60)
        return -1;
    *t = (time_t)(days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400LL + hh * 3600 +
                  mm * 60 + ss);
    return 0;
}

void response_init(struct response *r)
{
    r->status = 200;
    buf_init(&r->headers);
    buf_init(&r->body);
    r->file_fd = -1;
    r->file_off = 0;
    r->file_len = 0;
    r->head_only = 0;
    r->close = 0;
}

void response_free(struct response *r)
{
    if (!r)
        return;
    buf_free(&r->headers);
    buf_free(&r->body);
    if (r->file_fd >= 0)
        close(r->file_fd);
    r->file_fd = -1;
}

/* No CR, LF or NUL: a value from a request must not be able to start a
 * header field of its own ("response splitting"). */
static int field_safe(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

int response_header(struct response *r, const char *name, const char *value)
{
    if (!field_safe(name) || !field_safe(value) || !*name)
        return -1;
    if (buf_append(&r->headers, name, strlen(name)) < 0 ||
        buf_append(&r->headers, ": ", 2) < 0 ||
        buf_append(&r->headers, value, strlen(value)) < 0 ||
        buf_append(&r->headers, "\r\n", 2) < 0)
        return -1;
    return 0;
}

int response_body(struct response *r, const void *p, size_t n)
{
    return buf_append(&r->body, p, n);
}

int response_error(struct response *r, int status)
{
    char text[128];
    int n = snprintf(text, sizeof text, "%d %s\n", status, http_reason(status));
    r->status = status;
    r->headers.len = 0;
    r->body.len = 0;
    if (r->file_fd >= 0)
        close(r->file_fd);
    r->file_fd = -1;
    if (response_header(r, "Content-Type", "text/plain; charset=utf-8") < 0)
        return -1;
    return response_body(r, text, (size_t)n);
}

int response_head(const struct response *r, time_t now, struct buf *out)
{
    char line[256], date[HTTP_DATE_LEN + 1];
    int n;

    n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", r->status, http_reason(r->status));
    if (buf_append(out, line, (size_t)n) < 0)
        return -1;
    /* Formatting the date is the costliest part of a small response; it
     * changes once a second, so each thread keeps the last one. */
    static _Thread_local time_t last;
    static _Thread_local char last_date[HTTP_DATE_LEN + 1];
    if (now != last || !last_date[0]) {
        http_format_date(now, last_date);
        last = now;
    }
    memcpy(date, last_date, sizeof date);
    n = snprintf(line, sizeof line, "Date: %s\r\n", date);
    if (buf_append(out, line, (size_t)n) < 0)
        return -1;
    /* RFC 9110 section 8.6: no Content-Length in 1xx and 204 responses;
     * a 304 would announce the length of the full representation. */
    if (r->status >= 200 && r->status != 204 && r->status != 304) {
        long long len = r->file_fd >= 0 ? (long long)r->file_len : (long long)r->body.len;
        n = snprintf(line, sizeof line, "Content-Length: %lld\r\n", len);
        if (buf_append(out, line, (size_t)n) < 0)
            return -1;
    }
    if (r->close && buf_append(out, "Connection: close\r\n", 19) < 0)
        return -1;
    if (buf_append(out, r->headers.data ? r->headers.data : "", r->headers.len) < 0 ||
        buf_append(out, "\r\n", 2) < 0)
        return -1;
    return 0;
}
