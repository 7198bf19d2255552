/*
 * console_i18n.h - every text the console shows, in English and Russian (core/lang.h picks).
 * One CS_MSG_* key per text; the pages never hold a literal sentence.
 */
#ifndef SA_CONSOLE_I18N_H
#define SA_CONSOLE_I18N_H

#include "core/lang.h"

// clang-format off
#define CS_MESSAGES(X)                                                                                  \
    X(APP, "samsa console", "Консоль samsa")                                                            \
    X(NAV_OVERVIEW, "Overview", "Обзор")                                                                \
    X(NAV_TOPICS, "Topics", "Топики")                                                                   \
    X(NAV_MESSAGES, "Messages", "Сообщения")                                                            \
    X(NAV_GROUPS, "Consumer groups", "Группы консьюмеров")                                              \
    X(SKIP, "Skip to content", "Перейти к содержимому")                                                 \
    X(READ_ONLY, "read-only", "только чтение")                                                          \
    X(READ_ONLY_HINT, "This console is read-only (--read-only): nothing can be changed here.",          \
      "Консоль запущена только для чтения (--read-only): здесь ничего нельзя изменить.")                \
    X(SAMPLED, "Sampled", "Снимок")                                                                     \
    X(SAMPLE_PENDING, "The first sample of the cluster is being taken...",                               \
      "Снимается первый снимок кластера...")                                                            \
    X(SAMPLE_FAILED, "The last sample failed; showing the one before", "Последний снимок не удался; показан предыдущий") \
    X(CLUSTER, "Cluster", "Кластер")                                                                    \
    X(CLUSTER_ID, "Cluster id", "Id кластера")                                                          \
    X(VERSION, "Version", "Версия")                                                                     \
    X(UNKNOWN, "unknown", "неизвестно")                                                                 \
    X(BROKERS, "Brokers", "Брокеры")                                                                    \
    X(BROKER, "Broker", "Брокер")                                                                       \
    X(ADDRESS, "Address", "Адрес")                                                                      \
    X(CONTROLLER, "controller", "контроллер")                                                           \
    X(TOPICS, "Topics", "Топики")                                                                       \
    X(PARTITIONS, "Partitions", "Партиции")                                                             \
    X(PARTITION, "Partition", "Партиция")                                                               \
    X(MESSAGES, "Messages", "Сообщения")                                                                \
    X(BYTES_ON_DISK, "Bytes on disk", "Байт на диске")                                                  \
    X(BYTES_UNKNOWN, "unknown: librdkafka 2.0.2 cannot send DescribeLogDirs",                           \
      "неизвестно: librdkafka 2.0.2 не умеет DescribeLogDirs")                                          \
    X(RATE_IN, "In, messages/s", "Входящие, сообщ./с")                                                  \
    X(RATE_OUT, "Out (committed by groups), messages/s", "Исходящие (закоммичено группами), сообщ./с")   \
    X(RATES_CHART, "Messages per second, in and out", "Сообщений в секунду, вход и выход")              \
    X(GROUPS, "Consumer groups", "Группы консьюмеров")                                                  \
    X(GROUP, "Group", "Группа")                                                                         \
    X(NO_MEMBERS, "No member: nobody consumes right now.", "Участников нет: сейчас никто не читает.")   \
    X(SEARCH, "Search", "Поиск")                                                                        \
    X(SEARCH_TOPICS, "part of a topic name", "часть имени топика")                                      \
    X(SHOW_INTERNAL, "Show internal topics", "Показать служебные топики")                               \
    X(NAME, "Name", "Имя")                                                                              \
    X(REPLICAS, "Replicas", "Реплики")                                                                  \
    X(ISR, "In sync", "В синхроне")                                                                     \
    X(LEADER, "Leader", "Лидер")                                                                        \
    X(EARLIEST, "Earliest offset", "Начальный offset")                                                  \
    X(LATEST, "Latest offset", "Конечный offset")                                                       \
    X(NO_TOPICS, "No topic matches.", "Нет подходящих топиков.")                                        \
    X(SHOWING, "Showing", "Показано")                                                                   \
    X(OF, "of", "из")                                                                                   \
    X(NEXT_PAGE, "Next page", "Следующая страница")                                                     \
    X(PREV_PAGE, "Previous page", "Предыдущая страница")                                                \
    X(CREATE_TOPIC, "Create a topic", "Создать топик")                                                  \
    X(REPLICATION, "Replication factor", "Фактор репликации")                                           \
    X(CONFIGS, "Configs", "Настройки")                                                                  \
    X(CONFIGS_HINT, "one key=value a line, e.g. retention.ms=86400000",                                 \
      "по одному key=value в строке, например retention.ms=86400000")                                   \
    X(CREATE, "Create", "Создать")                                                                      \
    X(CREATED, "Topic created.", "Топик создан.")                                                       \
    X(DELETE_TOPIC, "Delete this topic", "Удалить топик")                                               \
    X(DELETE_CONFIRM, "Type the topic's name to confirm", "Введите имя топика для подтверждения")       \
    X(DELETE, "Delete", "Удалить")                                                                      \
    X(DELETED, "Topic deleted.", "Топик удалён.")                                                       \
    X(DELETE_MISMATCH, "The name typed is not the topic's: nothing was deleted.",                       \
      "Введённое имя не совпадает с именем топика: ничего не удалено.")                                 \
    X(NO_SUCH_TOPIC, "No such topic (yet: a new topic appears with the next sample).",                   \
      "Такого топика нет (новый топик появится со следующим снимком).")                                 \
    X(NO_SUCH_GROUP, "No such group.", "Такой группы нет.")                                             \
    X(EDIT_CONFIGS, "Edit the overrides", "Изменить переопределения")                                   \
    X(EDIT_CONFIGS_HINT,                                                                                \
      "The lines below replace every override of the topic (AlterConfigs); a key left out returns to its default.", \
      "Строки ниже заменяют все переопределения топика (AlterConfigs); пропущенный ключ вернётся к значению по умолчанию.") \
    X(SAVE, "Save", "Сохранить")                                                                        \
    X(SAVED, "Configs saved.", "Настройки сохранены.")                                                  \
    X(CONFIG, "Config", "Настройка")                                                                    \
    X(VALUE, "Value", "Значение")                                                                       \
    X(SOURCE, "Source", "Источник")                                                                     \
    X(CONFIGS_UNAVAILABLE, "The broker did not give the configs", "Брокер не вернул настройки")         \
    X(BROWSE, "Browse messages", "Смотреть сообщения")                                                  \
    X(TOPIC, "Topic", "Топик")                                                                          \
    X(ALL_PARTITIONS, "all", "все")                                                                     \
    X(SEEK, "From", "Откуда")                                                                           \
    X(SEEK_NEWEST, "newest", "самые новые")                                                             \
    X(SEEK_OFFSET, "offset", "offset")                                                                  \
    X(SEEK_TIME, "time", "время")                                                                       \
    X(OFFSET, "Offset", "Offset")                                                                       \
    X(TIME_UTC, "Time (UTC)", "Время (UTC)")                                                            \
    X(LIMIT, "How many", "Сколько")                                                                     \
    X(FILTERS, "Filters", "Фильтры")                                                                    \
    X(KEY_CONTAINS, "Key contains", "Ключ содержит")                                                    \
    X(VALUE_CONTAINS, "Value contains", "Значение содержит")                                            \
    X(HEADER_FILTER, "Header (name or name=value)", "Заголовок (имя или имя=значение)")                 \
    X(FROM_TIME, "Not before (UTC)", "Не раньше (UTC)")                                                 \
    X(TO_TIME, "Not after (UTC)", "Не позже (UTC)")                                                     \
    X(SHOW, "Show", "Показать")                                                                         \
    X(KEY, "Key", "Ключ")                                                                               \
    X(HEADERS, "Headers", "Заголовки")                                                                  \
    X(TIMESTAMP, "Timestamp", "Время")                                                                  \
    X(NULL_VALUE, "null", "null")                                                                       \
    X(NO_MESSAGES, "No message matches.", "Нет подходящих сообщений.")                                  \
    X(SCANNED, "records read", "записей прочитано")                                                     \
    X(PARTS_SKIPPED, "partitions were left out: choose a partition to read one of them",                \
      "партиций пропущено: выберите партицию, чтобы читать её")                                         \
    X(OLDER, "Older messages", "Более старые сообщения")                                                \
    X(LIVE_TAIL, "Live tail", "Живой поток")                                                            \
    X(LIVE_START, "Start the live tail", "Включить живой поток")                                        \
    X(LIVE_STOP, "Stop", "Остановить")                                                                  \
    X(LIVE_NOSCRIPT, "The live tail needs JavaScript; without it, reload the page to see new messages.", \
      "Живому потоку нужен JavaScript; без него обновите страницу, чтобы увидеть новые сообщения.")     \
    X(LIVE_WAITING, "Waiting for new messages...", "Ждём новые сообщения...")                           \
    X(PRODUCE, "Produce a message", "Отправить сообщение")                                              \
    X(HEADERS_HINT, "one name: value a line", "по одному имя: значение в строке")                       \
    X(PARTITION_AUTO, "blank: the partitioner chooses", "пусто: выберет партиционер")                   \
    X(SEND, "Send", "Отправить")                                                                        \
    X(PRODUCED, "Produced to partition {p} at offset {o}.", "Записано в партицию {p}, offset {o}.")      \
    X(STATE, "State", "Состояние")                                                                      \
    X(MEMBERS, "Members", "Участники")                                                                  \
    X(MEMBER, "Member", "Участник")                                                                     \
    X(CLIENT_ID, "Client id", "Client id")                                                              \
    X(HOST, "Host", "Хост")                                                                             \
    X(ASSIGNMENT, "Assignment", "Назначение")                                                           \
    X(LAG, "Lag", "Отставание")                                                                         \
    X(TOTAL_LAG, "Total lag", "Общее отставание")                                                       \
    X(TIME_LAG, "Time lag", "Отставание по времени")                                                    \
    X(TIME_LAG_HINT, "how old the oldest unconsumed record is", "возраст самой старой непрочитанной записи") \
    X(COMMITTED, "Committed", "Закоммичено")                                                            \
    X(LOG_END, "Log end", "Конец лога")                                                                 \
    X(NO_GROUPS, "No consumer group yet.", "Групп консьюмеров пока нет.")                               \
    X(PROTOCOL, "Protocol", "Протокол")                                                                 \
    X(LAG_HISTORY, "Lag history", "История отставания")                                                 \
    X(LAG_CHART, "Total lag and time lag", "Общее отставание и отставание по времени")                  \
    X(NO_HISTORY, "No samples yet in this range.", "В этом интервале ещё нет замеров.")                 \
    X(RANGE, "Range", "Интервал")                                                                       \
    X(UNASSIGNED, "unassigned", "не назначена")                                                         \
    X(KIP848_NOTE,                                                                                      \
      "Members of a group of the new consumer protocol (KIP-848) are not shown: librdkafka 2.0.2 cannot describe them. Offsets and lag are.", \
      "Участники группы нового протокола (KIP-848) не показаны: librdkafka 2.0.2 не умеет их описывать. Offset'ы и отставание показаны.") \
    X(RESET, "Reset offsets", "Сбросить offset'ы")                                                      \
    X(RESET_HINT, "A dry run shows the plan first; nothing changes until you apply it. The group must have no active members.", \
      "Сначала пробный прогон показывает план; ничего не меняется, пока вы его не примените. В группе не должно быть активных участников.") \
    X(ALL_TOPICS, "every topic of the group", "все топики группы")                                      \
    X(TO, "To", "Куда")                                                                                 \
    X(RESET_EARLIEST, "earliest", "в начало")                                                           \
    X(RESET_LATEST, "latest", "в конец")                                                                \
    X(RESET_OFFSET, "offset", "offset")                                                                 \
    X(RESET_TIME, "time (UTC)", "время (UTC)")                                                          \
    X(RESET_SHIFT, "shift by", "сдвиг на")                                                              \
    X(RESET_VALUE, "Offset, time or shift", "Offset, время или сдвиг")                                  \
    X(DRY_RUN, "Dry run", "Пробный прогон")                                                             \
    X(PLAN, "The plan (nothing changed yet)", "План (пока ничего не изменено)")                        \
    X(CURRENT, "Current", "Сейчас")                                                                     \
    X(NEW, "New", "Станет")                                                                             \
    X(APPLY, "Apply this plan", "Применить план")                                                       \
    X(RESET_DONE, "Offsets reset.", "Offset'ы сброшены.")                                               \
    X(RESET_EMPTY, "The group has no offsets on that topic.", "У группы нет offset'ов на этом топике.") \
    X(ERR_FORM, "The form was sent from an old page (or cookies are off). Please try again.",           \
      "Форма отправлена со старой страницы (или отключены cookie). Попробуйте ещё раз.")                \
    X(ERR_BAD_NUMBER, "Not a valid number.", "Это не число.")                                           \
    X(ERR_BAD_TIME, "Not a valid time (YYYY-MM-DDTHH:MM, UTC).", "Неверное время (ГГГГ-ММ-ДДTЧЧ:ММ, UTC).") \
    X(ERR_BAD_HEADER, "Each header line needs a name, a colon and a value.",                            \
      "В каждой строке заголовка нужны имя, двоеточие и значение.")                                     \
    X(ERR_BAD_CONFIG, "Each config line must be key=value.", "Каждая строка настроек — key=value.")     \
    X(ERR_NO_TOPIC, "Choose a topic.", "Выберите топик.")                                               \
    X(ERR_NAME, "A topic name is 1-249 characters of a-z A-Z 0-9 . _ -",                                \
      "Имя топика — от 1 до 249 символов из a-z A-Z 0-9 . _ -")                                         \
    X(ERR_KAFKA, "Kafka said", "Ответ Kafka")                                                           \
    X(BACK, "Back", "Назад")                                                                            \
    X(MS_UNIT, "ms", "мс")                                                                              \
    X(S_UNIT, "s", "с")                                                                                 \
    X(MIN_UNIT, "min", "мин")                                                                           \
    X(H_UNIT, "h", "ч")                                                                                 \
    X(D_UNIT, "d", "д")
// clang-format on

typedef enum cs_msg_e {
#define CS_MSG_ENUM(key, en, ru) CS_MSG_##key,
    CS_MESSAGES(CS_MSG_ENUM)
#undef CS_MSG_ENUM
        CS_MSG_COUNT_
} cs_msg_t;

/** @returns the text of @p msg in @p lang (static storage). */
const char *cs_t(sa_lang_t lang, cs_msg_t msg);

#endif
