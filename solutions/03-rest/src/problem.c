/* problem -- see problem.h. */
#include "problem.h"

#include <stdlib.h>
#include <string.h>

/* resp becomes a status response with json as its body, of this type. */
static int respond(struct response *resp, int status, const cJSON *json, const char *type)
{
    /* Unformatted: no whitespace to send. cJSON allocates the text; it is
     * copied into the response and freed on every path. */
    char *text = cJSON_PrintUnformatted(json);
    if (!text)
        return -1;
    resp->status = status;
    int rc = response_header(resp, "Content-Type", type) < 0 ||
                     response_body(resp, text, strlen(text)) < 0
                 ? -1
                 : 0;
    cJSON_free(text);
    return rc;
}

int json_respond(struct response *resp, int status, const cJSON *json)
{
    return respond(resp, status, json, "application/json");
}

int problem_respond_errors(struct response *resp, int status, const char *detail, cJSON *errors)
{
    cJSON *p = cJSON_CreateObject();
    int rc = -1;
    if (p && cJSON_AddStringToObject(p, "type", "about:blank") &&
        cJSON_AddStringToObject(p, "title", http_reason(status)) &&
        cJSON_AddNumberToObject(p, "status", status) &&
        (!detail || cJSON_AddStringToObject(p, "detail", detail))) {
        /* once added, the object owns errors */
        if (!errors || cJSON_AddItemToObject(p, "errors", errors)) {
            errors = NULL;
            rc = respond(resp, status, p, "application/problem+json");
        }
    }
    cJSON_Delete(errors);
    cJSON_Delete(p);
    return rc;
}

int problem_respond(struct response *resp, int status, const char *detail)
{
    return problem_respond_errors(resp, status, detail, NULL);
}
