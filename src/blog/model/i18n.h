/*
 * i18n.h - the web pages' two languages. English is the default; Russian (the original lab's
 * language) is chosen by `?lang=ru` or by Accept-Language. Every user-visible string of the web
 * server is one SA_MSG_* key with an English and a Russian text.
 */
#ifndef SA_BLOG_I18N_H
#define SA_BLOG_I18N_H

typedef enum sa_lang_e { SA_LANG_EN = 0, SA_LANG_RU = 1 } sa_lang_t;

#define SA_I18N_MESSAGES(X)                                                                                  \
    X(TITLE_APP, "samsa blog", "Блог samsa")                                                                 \
    X(NEW_POST, "Write a post", "Написать пост")                                                             \
    X(FIELD_TITLE, "Title", "Заголовок")                                                                     \
    X(FIELD_CONTENT, "Content", "Текст")                                                                     \
    X(FIELD_AUTHOR, "Author", "Автор")                                                                       \
    X(AUTHOR_HINT, "optional", "необязательно")                                                              \
    X(ANONYMOUS, "Anonymous", "Аноним")                                                                      \
    X(SUBMIT, "Publish", "Опубликовать")                                                                     \
    X(FEED, "Posts", "Посты")                                                                                \
    X(FEED_EMPTY, "No posts yet. Be the first!", "Постов пока нет. Будьте первым!")                          \
    X(QUEUED_NOTICE, "Post sent to the queue for creation", "Пост отправлен в очередь на создание")          \
    X(STATUS_QUEUED, "queued", "в очереди")                                                                  \
    X(STATUS_PUBLISHED, "published", "опубликован")                                                          \
    X(STATUS_REVIEW, "review", "на проверке")                                                                \
    X(STATUS_REJECTED, "rejected", "отклонён")                                                               \
    X(SCORE, "Score", "Оценка")                                                                              \
    X(REASONS, "Reasons", "Причины")                                                                         \
    X(SUBMITTED, "Submitted", "Отправлен")                                                                   \
    X(PROCESSED, "Processed", "Обработан")                                                                   \
    X(BACK, "Back to all posts", "Ко всем постам")                                                           \
    X(STATS, "Queue", "Очередь")                                                                             \
    X(STAT_QUEUED, "queued", "в очереди")                                                                    \
    X(STAT_PROCESSED, "processed", "обработано")                                                             \
    X(STAT_PUBLISHED, "published", "опубликовано")                                                           \
    X(STAT_REJECTED, "rejected", "отклонено")                                                                \
    X(STAT_LAG, "consumer lag", "отставание")                                                                \
    X(STAT_WORKERS, "workers alive", "воркеров")                                                             \
    X(PENDING_HINT, "The worker is scoring this post; this page updates by itself.",                         \
      "Воркер оценивает пост; страница обновится сама.")                                                     \
    X(NOT_FOUND, "No such post.", "Такого поста нет.")                                                       \
    X(ERR_REQUIRED, "This field is required.", "Это поле обязательно.")                                      \
    X(ERR_TOO_LONG, "Too long: at most %d characters.", "Слишком длинно: не больше %d символов.")            \
    X(ERR_UTF8, "Not valid UTF-8 text.", "Текст не в кодировке UTF-8.")                                      \
    X(ERR_CONTROL, "Control characters are not allowed.", "Управляющие символы недопустимы.")                \
    X(ERR_FORM, "Please correct the marked fields.", "Исправьте отмеченные поля.")                           \
    X(ERR_TOKEN, "This form has expired. Please submit it again.", "Форма устарела. Отправьте её ещё раз.")  \
    X(ERR_UNAVAILABLE,                                                                                       \
      "The queue is unavailable right now; your post was not sent. Please try again in a few seconds.",      \
      "Очередь сейчас недоступна; пост не отправлен. Попробуйте ещё раз через несколько секунд.")            \
    X(ERR_TOO_LARGE, "The post is too large.", "Пост слишком большой.")                                      \
    X(LANG_OTHER, "По-русски", "In English")                                                                 \
    X(LIVE, "live", "онлайн")                                                                                \
    X(SEARCH, "Search", "Поиск")                                                                             \
    X(SEARCH_HINT, "words in the title, text or author", "слова из заголовка, текста или автора")            \
    X(SEARCH_RESULTS, "Posts matching", "Посты по запросу")                                                  \
    X(SEARCH_NONE, "No post matches.", "Ничего не найдено.")                                                 \
    X(OLDER, "Older posts", "Более ранние посты")                                                            \
    X(NEWEST, "Newest posts", "Самые новые посты")                                                           \
    X(ERR_STORE, "The blog's store is unavailable right now. Please try again in a few seconds.",            \
      "Хранилище блога сейчас недоступно. Попробуйте ещё раз через несколько секунд.")

typedef enum sa_msg_e {
#define SA_I18N_ENUM(key, en, ru) SA_MSG_##key,
    SA_I18N_MESSAGES(SA_I18N_ENUM)
#undef SA_I18N_ENUM
        SA_MSG_COUNT_
} sa_msg_t;

/** @returns the text of @p msg in @p lang (static storage). */
const char *sa_i18n(sa_lang_t lang, sa_msg_t msg);

/** @returns the lang code ("en"/"ru"). */
const char *sa_i18n_code(sa_lang_t lang);

/**
 * Pick the language: @p query (the `lang` parameter, may be NULL) wins; otherwise the first
 * Accept-Language range (by q-value) that is en or ru; otherwise English. Borrows both strings.
 */
sa_lang_t sa_i18n_pick(const char *query, const char *accept_language);

/** @returns the language of a code "en"/"ru" (any case, "ru-RU" too); -1 if neither. */
int sa_i18n_parse(const char *code);

/** @returns the localized text of a post status ("queued", "published", ...), or @p status itself. */
const char *sa_i18n_status(sa_lang_t lang, const char *status);

#endif
