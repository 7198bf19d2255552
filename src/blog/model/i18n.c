/*
 * i18n.c - message tables and the language choice (see i18n.h).
 */
#include "blog/model/i18n.h"

#include <math.h>
#include <stdio.h>
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

/* 0 one, 1 few, 2 many */
static int plural_form(sa_lang_t lang, double v) {
    if (v != floor(v)) return 1;
    long long n = llabs((long long)v);
    if (lang != SA_LANG_RU) return n == 1 ? 0 : 2;
    if (n % 10 == 1 && n % 100 != 11) return 0;
    if (n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14)) return 1;
    return 2;
}

/* The display name of a code-valued param ("oborneva", "ru"), or the value itself. */
static const char *code_name(sa_lang_t lang, const char *name, const char *v) {
    static const struct {
        const char *param, *code;
        sa_msg_t msg;
    } names[] = {
        {"formula", "flesch", SA_MSG_FORMULA_FLESCH}, {"formula", "oborneva", SA_MSG_FORMULA_OBORNEVA},
        {"marked", "en", SA_MSG_LANG_NAME_EN},        {"marked", "ru", SA_MSG_LANG_NAME_RU},
        {"detected", "en", SA_MSG_LANG_NAME_EN},      {"detected", "ru", SA_MSG_LANG_NAME_RU},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(name, names[i].param) && !strcmp(v, names[i].code)) return sa_i18n(lang, names[i].msg);
    return v;
}

const char *sa_i18n_format(sa_lang_t lang, const char *tmpl, const json_t *params, char *out, size_t size) {
    size_t o = 0;
#define PUT(str, n)                                                                                          \
    do {                                                                                                     \
        size_t n_ = (n);                                                                                     \
        if (o + n_ >= size) n_ = size - 1 - o;                                                               \
        memcpy(out + o, (str), n_);                                                                          \
        o += n_;                                                                                             \
    } while (0)
    if (!size) return out;
    for (const char *p = tmpl; *p && o + 1 < size;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            PUT(p, 1);
            p++;
            continue;
        }
        char key[64];
        size_t klen = (size_t)(close - p - 1);
        if (klen >= sizeof(key)) klen = sizeof(key) - 1;
        memcpy(key, p + 1, klen);
        key[klen] = '\0';
        char *forms = strchr(key, ':');
        if (forms) *forms++ = '\0';
        const json_t *v = json_object_get(params, key);
        char num[64];
        if (forms) { /* {name:one|few|many} */
            int f = json_is_number(v) ? plural_form(lang, json_number_value(v)) : 2;
            for (int i = 0; i < f && forms; i++) {
                forms = strchr(forms, '|');
                if (forms) forms++;
            }
            if (forms) PUT(forms, strcspn(forms, "|"));
        } else if (json_is_string(v)) {
            const char *s = code_name(lang, key, json_string_value(v));
            PUT(s, strlen(s));
        } else if (json_is_number(v)) {
            double d = json_number_value(v);
            int n = d == floor(d) && fabs(d) < 1e15 ? snprintf(num, sizeof(num), "%lld", (long long)d)
                                                    : snprintf(num, sizeof(num), "%.1f", d);
            PUT(num, (size_t)n);
        } else {
            PUT("?", 1);
        }
        p = close + 1;
    }
#undef PUT
    out[o] = '\0';
    return out;
}

const char *sa_i18n_reason(sa_lang_t lang, const char *code) {
    static const struct {
        const char *code;
        sa_msg_t msg;
    } map[] = {
        {"EMPTY", SA_MSG_REASON_EMPTY},
        {"NEAR_DUPLICATE", SA_MSG_REASON_NEAR_DUPLICATE},
        {"REPETITIVE", SA_MSG_REASON_REPETITIVE},
        {"TOO_SHORT", SA_MSG_REASON_TOO_SHORT},
        {"SPAM_PHRASE", SA_MSG_REASON_SPAM_PHRASE},
        {"TOO_MANY_LINKS", SA_MSG_REASON_TOO_MANY_LINKS},
        {"SHOUTING", SA_MSG_REASON_SHOUTING},
        {"REPEATED_CHARS", SA_MSG_REASON_REPEATED_CHARS},
        {"PUNCTUATION_RUN", SA_MSG_REASON_PUNCTUATION_RUN},
        {"HARD_TO_READ", SA_MSG_REASON_HARD_TO_READ},
        {"LANG_MISMATCH", SA_MSG_REASON_LANG_MISMATCH},
    };
    for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(code, map[i].code)) return sa_i18n(lang, map[i].msg);
    return NULL;
}
