/*
 * err.h - samsa's one error type.
 *
 * sa_err_t is an int with three ranges:
 *   SA_OK (0)                success;
 *   1..999 and -1            Kafka's own wire error codes, with the same numbers, so a request
 *                            handler can return what goes on the wire unchanged;
 *   <= -1000                 internal conditions that never reach the wire as such
 *                            (SA_ERR_AGAIN means "incomplete or would block", not failure).
 */
#ifndef SA_CORE_ERR_H
#define SA_CORE_ERR_H

/* X(name, code, description): Kafka error codes as in the protocol guide. */
#define SA_KAFKA_ERRORS(X)                                                                                   \
    X(UNKNOWN_SERVER_ERROR, -1, "unexpected server error")                                                   \
    X(OFFSET_OUT_OF_RANGE, 1, "offset out of range")                                                         \
    X(CORRUPT_MESSAGE, 2, "corrupt message (CRC mismatch or malformed batch)")                               \
    X(UNKNOWN_TOPIC_OR_PARTITION, 3, "unknown topic or partition")                                           \
    X(INVALID_FETCH_SIZE, 4, "invalid fetch size")                                                           \
    X(LEADER_NOT_AVAILABLE, 5, "leader not available")                                                       \
    X(NOT_LEADER_OR_FOLLOWER, 6, "not leader or follower")                                                   \
    X(REQUEST_TIMED_OUT, 7, "request timed out")                                                             \
    X(BROKER_NOT_AVAILABLE, 8, "broker not available")                                                       \
    X(REPLICA_NOT_AVAILABLE, 9, "replica not available")                                                     \
    X(MESSAGE_TOO_LARGE, 10, "message too large")                                                            \
    X(STALE_CONTROLLER_EPOCH, 11, "stale controller epoch")                                                  \
    X(OFFSET_METADATA_TOO_LARGE, 12, "offset metadata too large")                                            \
    X(NETWORK_EXCEPTION, 13, "network exception")                                                            \
    X(COORDINATOR_LOAD_IN_PROGRESS, 14, "coordinator load in progress")                                      \
    X(COORDINATOR_NOT_AVAILABLE, 15, "coordinator not available")                                            \
    X(NOT_COORDINATOR, 16, "not coordinator")                                                                \
    X(INVALID_TOPIC_EXCEPTION, 17, "invalid topic name")                                                     \
    X(RECORD_LIST_TOO_LARGE, 18, "record list too large")                                                    \
    X(NOT_ENOUGH_REPLICAS, 19, "not enough replicas")                                                        \
    X(NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20, "not enough replicas after append")                              \
    X(INVALID_REQUIRED_ACKS, 21, "invalid required acks")                                                    \
    X(ILLEGAL_GENERATION, 22, "illegal generation")                                                          \
    X(INCONSISTENT_GROUP_PROTOCOL, 23, "inconsistent group protocol")                                        \
    X(INVALID_GROUP_ID, 24, "invalid group id")                                                              \
    X(UNKNOWN_MEMBER_ID, 25, "unknown member id")                                                            \
    X(INVALID_SESSION_TIMEOUT, 26, "invalid session timeout")                                                \
    X(REBALANCE_IN_PROGRESS, 27, "rebalance in progress")                                                    \
    X(INVALID_COMMIT_OFFSET_SIZE, 28, "invalid commit offset size")                                          \
    X(TOPIC_AUTHORIZATION_FAILED, 29, "topic authorization failed")                                          \
    X(GROUP_AUTHORIZATION_FAILED, 30, "group authorization failed")                                          \
    X(CLUSTER_AUTHORIZATION_FAILED, 31, "cluster authorization failed")                                      \
    X(INVALID_TIMESTAMP, 32, "invalid timestamp")                                                            \
    X(UNSUPPORTED_SASL_MECHANISM, 33, "unsupported SASL mechanism")                                          \
    X(ILLEGAL_SASL_STATE, 34, "illegal SASL state")                                                          \
    X(UNSUPPORTED_VERSION, 35, "unsupported version")                                                        \
    X(TOPIC_ALREADY_EXISTS, 36, "topic already exists")                                                      \
    X(INVALID_PARTITIONS, 37, "invalid number of partitions")                                                \
    X(INVALID_REPLICATION_FACTOR, 38, "invalid replication factor")                                          \
    X(INVALID_REPLICA_ASSIGNMENT, 39, "invalid replica assignment")                                          \
    X(INVALID_CONFIG, 40, "invalid config")                                                                  \
    X(NOT_CONTROLLER, 41, "not controller")                                                                  \
    X(INVALID_REQUEST, 42, "invalid request")                                                                \
    X(UNSUPPORTED_FOR_MESSAGE_FORMAT, 43, "unsupported for message format")                                  \
    X(POLICY_VIOLATION, 44, "policy violation")                                                              \
    X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45, "out of order sequence number")                                      \
    X(DUPLICATE_SEQUENCE_NUMBER, 46, "duplicate sequence number")                                            \
    X(INVALID_PRODUCER_EPOCH, 47, "invalid producer epoch")                                                  \
    X(INVALID_TXN_STATE, 48, "invalid transaction state")                                                    \
    X(INVALID_PRODUCER_ID_MAPPING, 49, "invalid producer id mapping")                                        \
    X(INVALID_TRANSACTION_TIMEOUT, 50, "invalid transaction timeout")                                        \
    X(CONCURRENT_TRANSACTIONS, 51, "concurrent transactions")                                                \
    X(TRANSACTION_COORDINATOR_FENCED, 52, "transaction coordinator fenced")                                  \
    X(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53, "transactional id authorization failed")                    \
    X(SECURITY_DISABLED, 54, "security disabled")                                                            \
    X(OPERATION_NOT_ATTEMPTED, 55, "operation not attempted")                                                \
    X(KAFKA_STORAGE_ERROR, 56, "storage error (disk full or I/O error)")                                     \
    X(LOG_DIR_NOT_FOUND, 57, "log dir not found")                                                            \
    X(SASL_AUTHENTICATION_FAILED, 58, "SASL authentication failed")                                          \
    X(UNKNOWN_PRODUCER_ID, 59, "unknown producer id")                                                        \
    X(REASSIGNMENT_IN_PROGRESS, 60, "reassignment in progress")                                              \
    X(INVALID_PRINCIPAL_TYPE, 67, "invalid principal type")                                                  \
    X(NON_EMPTY_GROUP, 68, "group is not empty")                                                             \
    X(GROUP_ID_NOT_FOUND, 69, "group id not found")                                                          \
    X(FETCH_SESSION_ID_NOT_FOUND, 70, "fetch session id not found")                                          \
    X(INVALID_FETCH_SESSION_EPOCH, 71, "invalid fetch session epoch")                                        \
    X(LISTENER_NOT_FOUND, 72, "listener not found")                                                          \
    X(TOPIC_DELETION_DISABLED, 73, "topic deletion disabled")                                                \
    X(FENCED_LEADER_EPOCH, 74, "fenced leader epoch")                                                        \
    X(UNKNOWN_LEADER_EPOCH, 75, "unknown leader epoch")                                                      \
    X(UNSUPPORTED_COMPRESSION_TYPE, 76, "unsupported compression type")                                      \
    X(STALE_BROKER_EPOCH, 77, "stale broker epoch")                                                          \
    X(OFFSET_NOT_AVAILABLE, 78, "offset not available")                                                      \
    X(MEMBER_ID_REQUIRED, 79, "member id required")                                                          \
    X(PREFERRED_LEADER_NOT_AVAILABLE, 80, "preferred leader not available")                                  \
    X(GROUP_MAX_SIZE_REACHED, 81, "group max size reached")                                                  \
    X(FENCED_INSTANCE_ID, 82, "fenced instance id")                                                          \
    X(ELIGIBLE_LEADERS_NOT_AVAILABLE, 83, "eligible leaders not available")                                  \
    X(ELECTION_NOT_NEEDED, 84, "election not needed")                                                        \
    X(NO_REASSIGNMENT_IN_PROGRESS, 85, "no reassignment in progress")                                        \
    X(GROUP_SUBSCRIBED_TO_TOPIC, 86, "group subscribed to topic")                                            \
    X(INVALID_RECORD, 87, "invalid record")                                                                  \
    X(UNSTABLE_OFFSET_COMMIT, 88, "unstable offset commit")                                                  \
    X(THROTTLING_QUOTA_EXCEEDED, 89, "throttling quota exceeded")                                            \
    X(PRODUCER_FENCED, 90, "producer fenced")                                                                \
    X(RESOURCE_NOT_FOUND, 91, "resource not found")                                                          \
    X(DUPLICATE_RESOURCE, 92, "duplicate resource")                                                          \
    X(UNACCEPTABLE_CREDENTIAL, 93, "unacceptable credential")                                                \
    X(INVALID_UPDATE_VERSION, 95, "invalid update version")                                                  \
    X(FEATURE_UPDATE_FAILED, 96, "feature update failed")                                                    \
    X(UNKNOWN_TOPIC_ID, 100, "unknown topic id")                                                             \
    X(INCONSISTENT_TOPIC_ID, 103, "inconsistent topic id")                                                   \
    X(TRANSACTIONAL_ID_NOT_FOUND, 105, "transactional id not found")                                         \
    X(TRANSACTION_ABORTABLE, 120, "transaction abortable")

/* X(name, code, description): conditions internal to samsa. */
#define SA_INTERNAL_ERRORS(X)                                                                                \
    X(AGAIN, -1000, "incomplete or would block; try again")                                                  \
    X(NOMEM, -1001, "out of memory")                                                                         \
    X(IO, -1002, "I/O error")                                                                                \
    X(PARSE, -1003, "malformed input")                                                                       \
    X(TOOBIG, -1004, "over the size limit")                                                                  \
    X(INVALID_ARG, -1005, "invalid argument")                                                                \
    X(NOT_FOUND, -1006, "not found")                                                                         \
    X(EXISTS, -1007, "already exists")                                                                       \
    X(CORRUPT, -1008, "corrupt data")                                                                        \
    X(CLOSED, -1009, "closed")                                                                               \
    X(NOSPC, -1010, "no space left on device")                                                               \
    X(TIMEOUT, -1011, "timed out")

typedef enum sa_err_e {
    SA_OK = 0,
#define SA_ERR_ENUM_(name, code, desc) SA_ERR_##name = (code),
    SA_KAFKA_ERRORS(SA_ERR_ENUM_) SA_INTERNAL_ERRORS(SA_ERR_ENUM_)
#undef SA_ERR_ENUM_
} sa_err_t;

/** @returns a static human description of @p err ("unknown error N" in a static buffer never). */
const char *sa_err2str(sa_err_t err);

/** @returns the symbolic name ("OFFSET_OUT_OF_RANGE", "AGAIN", "NONE") of @p err. */
const char *sa_err2name(sa_err_t err);

/** @returns 1 if @p err is a Kafka wire code (it may be put on the wire as is). */
static inline int sa_err_is_kafka(sa_err_t err) { return err >= -1 && err < 1000; }

#endif
