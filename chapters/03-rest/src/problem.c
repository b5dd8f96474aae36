/* problem -- see problem.h. */
#include "problem.h"

#include <stdlib.h>
#include <string.h>

int json_respond(struct response *resp, int status, const cJSON *json)
{
    /* TODO(stage 1): cJSON_PrintUnformatted(json) gives the text (NULL
     * when memory runs out); set resp->status, add the Content-Type field
     * and the text as the body (response_header(), response_body()), then
     * cJSON_free() the text -- on every path. */
    (void)resp;
    (void)status;
    (void)json;
    return -1;
}

int problem_respond_errors(struct response *resp, int status, const char *detail, cJSON *errors)
{
    /* TODO(stage 1): build the object with cJSON_CreateObject() and
     * cJSON_Add...ToObject(): "type" "about:blank", "title"
     * http_reason(status), "status" status, "detail" when not NULL, and
     * "errors" when not NULL (cJSON_AddItemToObject: from then on the
     * object owns errors). Send it like json_respond() does, with
     * "application/problem+json", and cJSON_Delete() the object -- and
     * errors, if it never joined the object. Every cJSON_Add... can fail
     * (NULL or 0): then return -1. */
    (void)resp;
    (void)status;
    (void)detail;
    cJSON_Delete(errors);
    return -1;
}

int problem_respond(struct response *resp, int status, const char *detail)
{
    return problem_respond_errors(resp, status, detail, NULL);
}
