#include "core/err.h"

const char *sa_err2str(sa_err_t err) {
    switch (err) {
    case SA_OK: return "success";
#define SA_ERR_STR_(name, code, desc)                                                                        \
    case SA_ERR_##name: return desc;
        SA_KAFKA_ERRORS(SA_ERR_STR_) SA_INTERNAL_ERRORS(SA_ERR_STR_)
#undef SA_ERR_STR_
    }
    return "unknown error";
}

const char *sa_err2name(sa_err_t err) {
    switch (err) {
    case SA_OK: return "NONE";
#define SA_ERR_NAME_(name, code, desc)                                                                       \
    case SA_ERR_##name: return #name;
        SA_KAFKA_ERRORS(SA_ERR_NAME_) SA_INTERNAL_ERRORS(SA_ERR_NAME_)
#undef SA_ERR_NAME_
    }
    return "UNKNOWN";
}
