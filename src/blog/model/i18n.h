/*
 * i18n.h - the web pages' two languages. English is the default; Russian (the original lab's
 * language) is chosen by `?lang=ru` or by Accept-Language. Every user-visible string of the web
 * server is one SA_MSG_* key with an English and a Russian text.
 */
#ifndef SA_BLOG_I18N_H
#define SA_BLOG_I18N_H

#include <jansson.h>
#include <stddef.h>

#include "core/lang.h"

#define SA_I18N_MESSAGES(X)                                                                                                                                                   \
    X(TITLE_APP, "samsa blog", "Блог samsa")                                                                                                                                  \
    X(NEW_POST, "Write a post", "Написать пост")                                                                                                                              \
    X(FIELD_TITLE, "Title", "Заголовок")                                                                                                                                      \
    X(FIELD_CONTENT, "Content", "Текст")                                                                                                                                      \
    X(FIELD_AUTHOR, "Author", "Автор")                                                                                                                                        \
    X(AUTHOR_HINT, "optional", "необязательно")                                                                                                                               \
    X(ANONYMOUS, "Anonymous", "Аноним")                                                                                                                                       \
    X(SUBMIT, "Publish", "Опубликовать")                                                                                                                                      \
    X(FEED, "Posts", "Посты")                                                                                                                                                 \
    X(FEED_EMPTY, "No posts yet. Be the first!", "Постов пока нет. Будьте первым!")                                                                                           \
    X(QUEUED_NOTICE, "Post sent to the queue for creation", "Пост отправлен в очередь на создание")                                                                           \
    X(STATUS_QUEUED, "queued", "в очереди")                                                                                                                                   \
    X(STATUS_PUBLISHED, "published", "опубликован")                                                                                                                           \
    X(STATUS_REVIEW, "review", "на проверке")                                                                                                                                 \
    X(STATUS_REJECTED, "rejected", "отклонён")                                                                                                                                \
    X(SCORE, "Score", "Оценка")                                                                                                                                               \
    X(REASONS, "Reasons", "Причины")                                                                                                                                          \
    X(SUBMITTED, "Submitted", "Отправлен")                                                                                                                                    \
    X(PROCESSED, "Processed", "Обработан")                                                                                                                                    \
    X(BACK, "Back to all posts", "Ко всем постам")                                                                                                                            \
    X(STATS, "Queue", "Очередь")                                                                                                                                              \
    X(STAT_QUEUED, "queued", "в очереди")                                                                                                                                     \
    X(STAT_PROCESSED, "processed", "обработано")                                                                                                                              \
    X(STAT_PUBLISHED, "published", "опубликовано")                                                                                                                            \
    X(STAT_REJECTED, "rejected", "отклонено")                                                                                                                                 \
    X(STAT_LAG, "consumer lag", "отставание")                                                                                                                                 \
    X(STAT_WORKERS, "workers alive", "воркеров")                                                                                                                              \
    X(PENDING_HINT, "The worker is scoring this post; this page updates by itself.",                                                                                          \
      "Воркер оценивает пост; страница обновится сама.")                                                                                                                      \
    X(NOT_FOUND, "No such post.", "Такого поста нет.")                                                                                                                        \
    X(ERR_REQUIRED, "This field is required.", "Это поле обязательно.")                                                                                                       \
    X(ERR_TOO_LONG, "Too long: at most %d characters.", "Слишком длинно: не больше %d символов.")                                                                             \
    X(ERR_UTF8, "Not valid UTF-8 text.", "Текст не в кодировке UTF-8.")                                                                                                       \
    X(ERR_CONTROL, "Control characters are not allowed.", "Управляющие символы недопустимы.")                                                                                 \
    X(ERR_FORM, "Please correct the marked fields.", "Исправьте отмеченные поля.")                                                                                            \
    X(ERR_TOKEN, "This form has expired. Please submit it again.", "Форма устарела. Отправьте её ещё раз.")                                                                   \
    X(ERR_UNAVAILABLE,                                                                                                                                                        \
      "The queue is unavailable right now; your post was not sent. Please try again in a few seconds.",                                                                       \
      "Очередь сейчас недоступна; пост не отправлен. Попробуйте ещё раз через несколько секунд.")                                                                             \
    X(ERR_TOO_LARGE, "The post is too large.", "Пост слишком большой.")                                                                                                       \
    X(LANG_OTHER, "По-русски", "In English")                                                                                                                                  \
    X(LIVE, "live", "онлайн")                                                                                                                                                 \
    X(SEARCH, "Search", "Поиск")                                                                                                                                              \
    X(SEARCH_HINT, "words in the title, text or author", "слова из заголовка, текста или автора")                                                                             \
    X(SEARCH_RESULTS, "Posts matching", "Посты по запросу")                                                                                                                   \
    X(SEARCH_NONE, "No post matches.", "Ничего не найдено.")                                                                                                                  \
    X(OLDER, "Older posts", "Более ранние посты")                                                                                                                             \
    X(NEWEST, "Newest posts", "Самые новые посты")                                                                                                                            \
    X(ERR_STORE, "The blog's store is unavailable right now. Please try again in a few seconds.",                                                                             \
      "Хранилище блога сейчас недоступно. Попробуйте ещё раз через несколько секунд.")                                                                                        \
    X(STAT_REVIEW, "review", "на проверке")                                                                                                                                   \
    X(NO_WORKER_HINT,                                                                                                                                                         \
      "No worker is running: the post waits in the queue and is scored as soon as a worker starts.",                                                                          \
      "Воркер не запущен: пост ждёт в очереди и будет оценён, как только воркер запустится.")                                                                                 \
    X(BROKER_DOWN, "The broker is unreachable: the queue's numbers are not current.",                                                                                         \
      "Брокер недоступен: данные очереди не обновляются.")                                                                                                                    \
    X(LIVE_OFFLINE, "offline", "нет связи")                                                                                                                                   \
    X(LIVE_BROKER_DOWN, "broker down", "брокер недоступен")                                                                                                                   \
    X(VERDICT_NOTICE, "The verdict is in: {status}, score {score}.",                                                                                                          \
      "Вердикт готов: {status}, оценка {score}.")                                                                                                                             \
    X(SCORE_HELP,                                                                                                                                                             \
      "Every post starts with 100 points and each reason below takes some off: 70 or more is published, "                                                                     \
      "40-69 goes to review, below 40 is rejected.",                                                                                                                          \
      "Каждый пост начинает со 100 баллов, и каждая причина ниже отнимает часть: от 70 — публикация, " \
      "40–69 — проверка, ниже 40 — отклонение.")                                                                                                                              \
    X(SHOW_REJECTED, "Rejected posts", "Отклонённые посты")                                                                                                                   \
    X(REJECTED_TITLE, "Rejected posts (hidden from the feed)", "Отклонённые посты (скрыты из ленты)")                                                                         \
    X(REASON_EMPTY, "The text has no words.", "В тексте нет ни одного слова.")                                                                                                \
    X(REASON_NEAR_DUPLICATE, "Almost the same text as {link}: {percent}% of its phrases match.",                                                                              \
      "Почти тот же текст, что в {link}: совпадает {percent}% фраз.")                                                                                                         \
    X(REASON_DUP_LINK, "an earlier post", "более раннем посте")                                                                                                               \
    X(REASON_REPETITIVE, "The text repeats itself: {percent}% of its phrases are repeats.",                                                                                   \
      "Текст повторяется: {percent}% фраз — повторы.")                                                                                                                        \
    X(REASON_TOO_SHORT, "Very short: {words} {words:word|words|words} (a full post has at least {min}).",                                                                     \
      "Очень коротко: {words} {words:слово|слова|слов} (в полноценном посте хотя бы {min}).")                                                                                 \
    X(REASON_SPAM_PHRASE,                                                                                                                                                     \
      "{count} advertising {count:phrase|phrases|phrases}, such as \u201c{example}\u201d.",                                                                                   \
      "{count} {count:рекламная фраза|рекламные фразы|рекламных фраз}, например «{example}».")                                                                                \
    X(REASON_TOO_MANY_LINKS, "{links} links: more than {free} look like advertising.",                                                                                        \
      "{links} {links:ссылка|ссылки|ссылок}: больше {free} похоже на рекламу.")                                                                                               \
    X(REASON_SHOUTING, "{percent}% of the letters are capitals (shouting).",                                                                                                  \
      "{percent}% букв — заглавные (похоже на крик).")                                                                                                                        \
    X(REASON_REPEATED_CHARS,                                                                                                                                                  \
      "{runs} {runs:place|places|places} where a letter repeats {min_run}+ times (\u201csooooo\u201d).",                                                                      \
      "{runs} {runs:место|места|мест}, где буква повторяется {min_run}+ раз («оооочень»).")                                                                                   \
    X(REASON_PUNCTUATION_RUN,                                                                                                                                                 \
      "{runs} {runs:run|runs|runs} of {min_run}+ punctuation marks (\u201c!!!!\u201d).",                                                                                      \
      "{runs} {runs:серия|серии|серий} из {min_run}+ знаков препинания («!!!!»).")                                                                                            \
    X(REASON_HARD_TO_READ,                                                                                                                                                    \
      "Hard to read: readability {readability} by the {formula} formula (below {min}). Shorter sentences "                                                                    \
      "and words help.",                                                                                                                                                      \
      "Трудно читать: удобочитаемость {readability} по формуле {formula} (ниже {min}). Помогут короткие "              \
      "предложения и слова.")                                                                                                                                                 \
    X(REASON_LANG_MISMATCH, "Marked as {marked}, but the text is in {detected}.",                                                                                             \
      "Указан язык «{marked}», а текст написан на языке «{detected}».")                                                                                                       \
    X(FORMULA_FLESCH, "Flesch", "Флеша")                                                                                                                                      \
    X(FORMULA_OBORNEVA, "Oborneva", "Оборневой")                                                                                                                              \
    X(LANG_NAME_EN, "English", "английский")                                                                                                                                  \
    X(LANG_NAME_RU, "Russian", "русский")

typedef enum sa_msg_e {
#define SA_I18N_ENUM(key, en, ru) SA_MSG_##key,
    SA_I18N_MESSAGES(SA_I18N_ENUM)
#undef SA_I18N_ENUM
        SA_MSG_COUNT_
} sa_msg_t;

/** @returns the text of @p msg in @p lang (static storage). */
const char *sa_i18n(sa_lang_t lang, sa_msg_t msg);

/** @returns the localized text of a post status ("queued", "published", ...), or @p status itself. */
const char *sa_i18n_status(sa_lang_t lang, const char *status);

/**
 * Fill the template @p tmpl (a SA_MSG_* text) from @p params (a JSON object, borrowed, may be
 * NULL) into @p out: "{name}" is the value (numbers as integers when whole, else with one
 * decimal; the codes of "formula", "marked" and "detected" become their names in @p lang),
 * "{name:one|few|many}" the plural form for the number (Russian rules: 1, 21 one; 2-4, 22-24
 * few; else many; English: 1 one, else many). A missing param leaves "?". @returns @p out.
 */
const char *sa_i18n_format(sa_lang_t lang, const char *tmpl, const json_t *params, char *out, size_t size);

/** @returns the template (SA_MSG_REASON_*) of a verdict reason code, or NULL if unknown. */
const char *sa_i18n_reason(sa_lang_t lang, const char *code);

#endif
