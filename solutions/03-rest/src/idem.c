/* idem -- see idem.h. */
#include "idem.h"

int idem_key(struct http_slice value, char *key, size_t cap)
{
    const char *p = value.p;
    size_t n = value.n, i = 0, len = 0;

    while (n > 0 && p[n - 1] == ' ')
        n--;
    while (i < n && p[i] == ' ')
        i++;
    if (i == n || p[i++] != '"')
        return -1;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            break;
        if (c == '\\') {
            if (++i == n || (p[i] != '"' && p[i] != '\\'))
                return -1;
            c = (unsigned char)p[i];
        } else if (c < 0x20 || c > 0x7E) {
            return -1;
        }
        if (len + 1 >= cap)
            return -1;
        key[len++] = (char)c;
    }
    if (i + 1 != n || len == 0) /* the closing quote must end the value */
        return -1;
    key[len] = '\0';
    return (int)len;
}
