/*
 * lang.h - the two languages samsa's web pages speak (English, the default, and Russian, the
 * original lab's), their codes, and the choice from a request's `?lang=`, cookie and
 * Accept-Language. Each program keeps its own message table (blog/model/i18n.h,
 * console/console_i18n.h); this is what they share.
 */
#ifndef SA_CORE_LANG_H
#define SA_CORE_LANG_H

typedef enum sa_lang_e { SA_LANG_EN = 0, SA_LANG_RU = 1 } sa_lang_t;

/** @returns the lang code ("en"/"ru"). */
const char *sa_lang_code(sa_lang_t lang);

/** @returns the language of a code "en"/"ru" (any case, "ru-RU" too); -1 if neither. */
int sa_lang_parse(const char *code);

/**
 * Pick the language: @p query (the `lang` parameter or a remembered cookie, may be NULL) wins;
 * otherwise the Accept-Language range with the highest q-value that is en or ru (the earlier one
 * on ties); otherwise English. Borrows both strings.
 */
sa_lang_t sa_lang_pick(const char *query, const char *accept_language);

#endif
