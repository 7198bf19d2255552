/*
 * console_i18n.c - the console's message table (see console_i18n.h).
 */
#include "console/console_i18n.h"

static const char *const texts[CS_MSG_COUNT_][2] = {
#define CS_MSG_ROW(key, en, ru) {en, ru},
    CS_MESSAGES(CS_MSG_ROW)
#undef CS_MSG_ROW
};

const char *cs_t(sa_lang_t lang, cs_msg_t msg) {
    if ((unsigned)msg >= CS_MSG_COUNT_) return "";
    return texts[msg][lang == SA_LANG_RU];
}
