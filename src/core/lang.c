/*
 * lang.c - language codes and the choice from Accept-Language (see lang.h).
 */
#include "core/lang.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *sa_lang_code(sa_lang_t lang) { return lang == SA_LANG_RU ? "ru" : "en"; }

int sa_lang_parse(const char *code) {
    if (!code) return -1;
    if (!strncasecmp(code, "ru", 2) && (code[2] == '\0' || code[2] == '-' || code[2] == '_'))
        return SA_LANG_RU;
    if (!strncasecmp(code, "en", 2) && (code[2] == '\0' || code[2] == '-' || code[2] == '_'))
        return SA_LANG_EN;
    return -1;
}

sa_lang_t sa_lang_pick(const char *query, const char *accept_language) {
    int lang = sa_lang_parse(query);
    if (lang >= 0) return (sa_lang_t)lang;
    /* Accept-Language: "ru-RU,ru;q=0.9,en-US;q=0.8"; keep the known range with the highest q,
     * the earlier one on ties. */
    const char *p = accept_language;
    double best_q = 0;
    int best = SA_LANG_EN;
    while (p && *p) {
        while (*p == ' ' || *p == ',') p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char range[64];
        if (len < sizeof(range)) {
            memcpy(range, p, len);
            range[len] = '\0';
            double q = 1.0;
            char *semi = strchr(range, ';');
            if (semi) {
                *semi = '\0';
                char *qs = strstr(semi + 1, "q=");
                if (qs) q = strtod(qs + 2, NULL);
            }
            int l = sa_lang_parse(range);
            if (l >= 0 && q > best_q) {
                best_q = q;
                best = l;
            }
        }
        p = end;
    }
    return (sa_lang_t)best;
}
