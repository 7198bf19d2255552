/*
 * i18n.c - message tables and the language choice (see i18n.h).
 */
#include "blog/model/i18n.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const texts[SA_MSG_COUNT_][2] = {
#define SA_I18N_ROW(key, en, ru) {en, ru},
    SA_I18N_MESSAGES(SA_I18N_ROW)
#undef SA_I18N_ROW
};

const char *sa_i18n(sa_lang_t lang, sa_msg_t msg) {
    if ((unsigned)msg >= SA_MSG_COUNT_) return "";
    return texts[msg][lang == SA_LANG_RU];
}

const char *sa_i18n_code(sa_lang_t lang) { return lang == SA_LANG_RU ? "ru" : "en"; }

int sa_i18n_parse(const char *code) {
    if (!code) return -1;
    if (!strncasecmp(code, "ru", 2) && (code[2] == '\0' || code[2] == '-' || code[2] == '_'))
        return SA_LANG_RU;
    if (!strncasecmp(code, "en", 2) && (code[2] == '\0' || code[2] == '-' || code[2] == '_'))
        return SA_LANG_EN;
    return -1;
}

sa_lang_t sa_i18n_pick(const char *query, const char *accept_language) {
    int lang = sa_i18n_parse(query);
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
            int l = sa_i18n_parse(range);
            if (l >= 0 && q > best_q) {
                best_q = q;
                best = l;
            }
        }
        p = end;
    }
    return (sa_lang_t)best;
}

const char *sa_i18n_status(sa_lang_t lang, const char *status) {
    static const struct {
        const char *name;
        sa_msg_t msg;
    } map[] = {
        {"queued", SA_MSG_STATUS_QUEUED},
        {"published", SA_MSG_STATUS_PUBLISHED},
        {"review", SA_MSG_STATUS_REVIEW},
        {"rejected", SA_MSG_STATUS_REJECTED},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (status && !strcmp(status, map[i].name)) return sa_i18n(lang, map[i].msg);
    return status ? status : "";
}
