/*
 * kafka-mock — a Kafka test cluster for Understudy's tests and demo.
 *
 * It runs librdkafka's in-process mock cluster (rdkafka_mock.h, librdkafka
 * 2.0.2 as shipped by Debian's librdkafka-dev): real Kafka wire protocol on
 * localhost, brokers, partitions, consumer groups with rebalances, broker
 * down/up and injected request errors. Clients (kafkajs) connect to it like to
 * any cluster.
 *
 * Usage:
 *   kafka-mock --brokers N [--topic name:partitions]... [--control-port P]
 *              [--no-stdin] [--debug]
 *
 *   --brokers N        number of brokers (ids 1..N), 1..32, default 1
 *   --topic t:p        create topic t with p partitions before READY (repeatable)
 *   --control-port P   TCP control port on 127.0.0.1; 0 (default) = ephemeral
 *   --no-stdin         do not read commands from stdin and do not exit on its
 *                      EOF (for detached runs whose stdin is /dev/null)
 *   --debug            librdkafka debug=mock logging on stderr
 *
 * Startup lines on stdout (each flushed), then nothing else unless stdin
 * commands are answered:
 *   BOOTSTRAP 127.0.0.1:p1,127.0.0.1:p2,...
 *   CONTROL 127.0.0.1:<port>
 *   READY
 * Failures before READY: a message on stderr and exit status 1 (2 for usage).
 *
 * Control protocol — on stdin (replies on stdout) and on the TCP control
 * socket (any number of clients, up to MAX_CLIENTS at once): one command per
 * line, exactly one reply line per command. Blank lines are ignored.
 *   ping                          -> PONG
 *   help                          -> OK <command list>
 *   bootstrap                     -> OK <bootstrap servers>
 *   topic <name> <partitions>     -> OK              (created)
 *                                    OK exists       (already there, same or
 *                                                     unknown partition count)
 *                                    ERR ...         (exists with another count)
 *   down <brokerId|all>           -> OK   (broker closes connections, refuses new)
 *   up <brokerId|all>             -> OK
 *   rtt <brokerId|all> <ms>       -> OK   (added response delay, 0 = none)
 *   error <ApiKey> <count> <err>  -> OK   (the next <count> requests with that
 *                                          ApiKey, to any broker, fail with
 *                                          <err>: a number or a name such as
 *                                          NOT_LEADER_FOR_PARTITION)
 *   clear-errors [ApiKey]         -> OK   (drop pending injected errors)
 *   quit                          -> OK, then the process exits (status 0)
 *   anything else                 -> ERR <what is wrong>
 * It exits with status 0 on SIGTERM, SIGINT, SIGHUP, `quit`, and on EOF on
 * stdin (unless --no-stdin): a launcher whose parent died does not linger.
 *
 * What the mock cluster does by itself (librdkafka 2.0.2, src/rdkafka_mock.c,
 * rdkafka_mock_handlers.c, rdkafka_mock_cgrp.c; checked with kafkajs 2.2.4),
 * worth knowing when writing tests:
 *  - Auto-creation: a Metadata request naming an unknown topic creates it
 *    with 4 partitions and replication min(3, brokers). The mock answers
 *    Metadata up to v2, which has no AllowAutoTopicCreation flag, so this
 *    happens whatever the client's allowAutoTopicCreation says (kafkajs
 *    producers, consumers and admin alike). A test that needs a given
 *    partition count creates its topic here before any client names it.
 *  - CreateTopics (the admin API) is not implemented by the mock; kafkajs
 *    admin.createTopics fails. Topics are created through this launcher.
 *  - Each partition log keeps at most 5 MiB and 100,000 message sets
 *    (batches); older message sets are trimmed silently, which moves the log
 *    start offset (measured: ~24,000 records of 200 B per partition). A
 *    consumer further behind than that loses data (OFFSET_OUT_OF_RANGE, then
 *    it resets). Benchmarks use many partitions or consume while producing.
 *  - A Fetch returns at most one message set (one produce request's batch)
 *    per partition, and a Fetch that finds no data waits its full MaxWait.
 *    A consumer of many small produce requests is therefore capped at one
 *    batch per partition per fetch round, however far behind it is; real
 *    brokers return everything up to the fetch's byte limits.
 *  - Broker ports are ephemeral: every run has new bootstrap addresses.
 *  - `down` moves neither partition leadership nor group coordination: while
 *    a broker is down, its partitions and the groups it coordinates are
 *    unavailable, and clients retry until it is `up` again.
 *  - Consumer groups: the first join into an empty group waits 3 s for more
 *    members; any later rebalance stays open for the members' session
 *    timeout minus 1 s. There is a race: if the leader's SyncGroup arrives
 *    before a follower's, the group is already "Up" and the follower gets
 *    INVALID_REQUEST, which kafkajs treats as fatal (the consumer crashes
 *    without restarting), so consumers must be restarted by their owner.
 *  - Injected errors (`error`) are taken by the next matching requests to any
 *    broker; _TRANSPORT makes the broker drop the connection instead.
 *  - Replication is only bookkeeping (replica lists in Metadata); topics
 *    created here use min(3, brokers) replicas, the same as auto-created ones.
 *  - Everything lives in memory and is gone when the process exits.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_BROKERS 32
#define MAX_CLIENTS 64
#define MAX_LINE 1024
#define MAX_PARTITIONS 10000
#define MAX_ERROR_COUNT 100000
#define MAX_RTT_MS 600000
/* Kafka ApiKeys are small (0..~70 today); the mock keeps error stacks in a
 * list keyed by ApiKey, so any int16 would do, but a bound catches typos and
 * lets `clear-errors` without an argument sweep them all. */
#define MAX_API_KEY 1023

/* One line-oriented command source: stdin (replies on stdout) or a control
 * socket client (replies on the same socket). */
typedef struct {
        int in_fd;
        int out_fd;
        char buf[MAX_LINE + 1];
        size_t len;
        int overflow; /* current line exceeded MAX_LINE: reply ERR at its end */
} conn_t;

typedef struct {
        char *name;
        int partitions;
} known_topic_t;

static rd_kafka_mock_cluster_t *mcluster;
static int broker_cnt = 1;
static int replication;
static known_topic_t *topics;
static size_t topic_cnt, topic_cap;
static int signal_pipe[2] = {-1, -1};
static int quit_requested;

/* ---------------------------------------------------------------- output */

/* write() all of buf; returns 0 or -1. Used for stdout too, so startup lines
 * reach a parent reading a pipe immediately (no stdio buffering). */
static int write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

static int emit(int fd, const char *fmt, ...) {
        char line[MAX_LINE * 2];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        if ((size_t)n > sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        return write_all(fd, line, (size_t)n);
}

static void die(const char *fmt, ...) {
        va_list ap;
        fputs("kafka-mock: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static void usage_error(const char *fmt, ...) {
        va_list ap;
        fputs("kafka-mock: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nusage: kafka-mock --brokers N [--topic name:partitions]... "
              "[--control-port P] [--no-stdin] [--debug]\n",
              stderr);
        exit(2);
}

/* ---------------------------------------------------------------- parsing */

/* Strict decimal integer in [min,max]; returns 0 on success. */
static int parse_int(const char *s, long min, long max, long *out) {
        char *end;
        long v;

        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

/* Kafka's legal topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static int valid_topic_name(const char *name) {
        size_t len = strlen(name), i;

        if (len == 0 || len > 249 || !strcmp(name, ".") || !strcmp(name, ".."))
                return 0;
        for (i = 0; i < len; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return 0;
        }
        return 1;
}

/* An error code given as a number ("6") or a name ("NOT_LEADER_FOR_PARTITION",
 * with or without the "ERR_" prefix), checked against librdkafka's table.
 * Returns 0 on success. */
static int parse_error_code(const char *s, rd_kafka_resp_err_t *out) {
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        long num;
        int by_number = parse_int(s, INT_MIN, INT_MAX, &num) == 0;

        if (!strncmp(s, "ERR_", 4))
                s += 4;
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (!descs[i].name)
                        continue; /* holes in the table */
                if (by_number ? (long)descs[i].code == num
                              : !strcmp(descs[i].name, s)) {
                        *out = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

/* Broker id argument: 1..N, or "all"/-1 for every broker. */
static int parse_broker(const char *s, int32_t *out) {
        long v;

        if (s && !strcmp(s, "all")) {
                *out = -1;
                return 0;
        }
        if (parse_int(s, -1, broker_cnt, &v) || v == 0)
                return -1;
        *out = (int32_t)v;
        return 0;
}

/* ---------------------------------------------------------------- topics */

static known_topic_t *known_topic_find(const char *name) {
        size_t i;
        for (i = 0; i < topic_cnt; i++)
                if (!strcmp(topics[i].name, name))
                        return &topics[i];
        return NULL;
}

static void known_topic_add(const char *name, int partitions) {
        if (topic_cnt == topic_cap) {
                topic_cap = topic_cap ? topic_cap * 2 : 16;
                topics    = realloc(topics, topic_cap * sizeof(*topics));
                if (!topics)
                        die("out of memory");
        }
        topics[topic_cnt].name       = strdup(name);
        topics[topic_cnt].partitions = partitions;
        if (!topics[topic_cnt].name)
                die("out of memory");
        topic_cnt++;
}

/* Creates a topic; writes the reply ("OK", "OK exists" or "ERR ...") into
 * reply. Creating an existing topic is idempotent as long as the partition
 * count does not contradict what this launcher created; a topic that a client
 * auto-created (4 partitions) is reported as "OK exists" because its partition
 * count is not visible through the mock API. */
static void create_topic(const char *name, int partitions, char *reply,
                         size_t size) {
        known_topic_t *known = known_topic_find(name);
        rd_kafka_resp_err_t err;

        if (known) {
                if (known->partitions == partitions)
                        snprintf(reply, size, "OK exists");
                else
                        snprintf(reply, size,
                                 "ERR topic %s already exists with %d "
                                 "partitions, not %d",
                                 name, known->partitions, partitions);
                return;
        }

        err = rd_kafka_mock_topic_create(mcluster, name, partitions,
                                         replication);
        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(reply, size, "OK exists");
        } else if (err) {
                snprintf(reply, size, "ERR topic %s: %s", name,
                         rd_kafka_err2str(err));
        } else {
                known_topic_add(name, partitions);
                snprintf(reply, size, "OK");
        }
}

/* ---------------------------------------------------------------- commands */

#define MAX_ARGS 8

static void reply_mock_err(char *reply, size_t size, const char *cmd,
                           rd_kafka_resp_err_t err) {
        if (err)
                snprintf(reply, size, "ERR %s: %s", cmd, rd_kafka_err2str(err));
        else
                snprintf(reply, size, "OK");
}

/* Executes one command line; the reply (without newline) goes to reply. */
static void run_command(char *line, char *reply, size_t size) {
        char *argv[MAX_ARGS + 1];
        int argc = 0;
        char *save, *tok;
        const char *cmd;
        long n1, n2;
        int32_t broker;

        for (tok = strtok_r(line, " \t\r", &save); tok && argc <= MAX_ARGS;
             tok = strtok_r(NULL, " \t\r", &save))
                argv[argc++] = tok;
        if (argc == 0) { /* callers skip blank lines; be safe anyway */
                snprintf(reply, size, "ERR empty command");
                return;
        }
        if (argc > MAX_ARGS) {
                snprintf(reply, size, "ERR too many arguments");
                return;
        }
        cmd = argv[0];

#define EXPECT_ARGS(n, synopsis)                                               \
        do {                                                                   \
                if (argc != (n) + 1) {                                         \
                        snprintf(reply, size,                                  \
                                 "ERR %s expects %d argument%s: %s", cmd, (n), \
                                 (n) == 1 ? "" : "s", synopsis);               \
                        return;                                                \
                }                                                              \
        } while (0)

        if (!strcmp(cmd, "ping")) {
                EXPECT_ARGS(0, "ping");
                snprintf(reply, size, "PONG");

        } else if (!strcmp(cmd, "help")) {
                snprintf(reply, size,
                         "OK commands: ping | bootstrap | topic <name> "
                         "<partitions> | down <brokerId|all> | up "
                         "<brokerId|all> | rtt <brokerId|all> <ms> | error "
                         "<ApiKey> <count> <errcode|ERRNAME> | clear-errors "
                         "[ApiKey] | quit");

        } else if (!strcmp(cmd, "bootstrap")) {
                EXPECT_ARGS(0, "bootstrap");
                snprintf(reply, size, "OK %s",
                         rd_kafka_mock_cluster_bootstraps(mcluster));

        } else if (!strcmp(cmd, "topic")) {
                EXPECT_ARGS(2, "topic <name> <partitions>");
                if (!valid_topic_name(argv[1])) {
                        snprintf(reply, size,
                                 "ERR topic name '%.256s' is not a legal Kafka "
                                 "topic name (1-249 chars of a-z A-Z 0-9 . _ -)",
                                 argv[1]);
                        return;
                }
                if (parse_int(argv[2], 1, MAX_PARTITIONS, &n1)) {
                        snprintf(reply, size,
                                 "ERR topic partitions must be an integer "
                                 "1..%d, got '%.64s'",
                                 MAX_PARTITIONS, argv[2]);
                        return;
                }
                create_topic(argv[1], (int)n1, reply, size);

        } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
                EXPECT_ARGS(1, "down|up <brokerId|all>");
                if (parse_broker(argv[1], &broker)) {
                        snprintf(reply, size,
                                 "ERR %s: broker id must be 1..%d or 'all', "
                                 "got '%.64s'",
                                 cmd, broker_cnt, argv[1]);
                        return;
                }
                reply_mock_err(
                    reply, size, cmd,
                    !strcmp(cmd, "down")
                        ? rd_kafka_mock_broker_set_down(mcluster, broker)
                        : rd_kafka_mock_broker_set_up(mcluster, broker));

        } else if (!strcmp(cmd, "rtt")) {
                EXPECT_ARGS(2, "rtt <brokerId|all> <ms>");
                if (parse_broker(argv[1], &broker)) {
                        snprintf(reply, size,
                                 "ERR rtt: broker id must be 1..%d or 'all', "
                                 "got '%.64s'",
                                 broker_cnt, argv[1]);
                        return;
                }
                if (parse_int(argv[2], 0, MAX_RTT_MS, &n1)) {
                        snprintf(reply, size,
                                 "ERR rtt: ms must be an integer 0..%d, got "
                                 "'%.64s'",
                                 MAX_RTT_MS, argv[2]);
                        return;
                }
                reply_mock_err(
                    reply, size, cmd,
                    rd_kafka_mock_broker_set_rtt(mcluster, broker, (int)n1));

        } else if (!strcmp(cmd, "error")) {
                rd_kafka_resp_err_t err, *errs;
                long i;

                EXPECT_ARGS(3, "error <ApiKey> <count> <errcode|ERRNAME>");
                if (parse_int(argv[1], 0, MAX_API_KEY, &n1)) {
                        snprintf(reply, size,
                                 "ERR error: ApiKey must be an integer 0..%d "
                                 "(e.g. 0 = Produce, 1 = Fetch), got '%.64s'",
                                 MAX_API_KEY, argv[1]);
                        return;
                }
                if (parse_int(argv[2], 1, MAX_ERROR_COUNT, &n2)) {
                        snprintf(reply, size,
                                 "ERR error: count must be an integer 1..%d, "
                                 "got '%.64s'",
                                 MAX_ERROR_COUNT, argv[2]);
                        return;
                }
                if (parse_error_code(argv[3], &err)) {
                        snprintf(reply, size,
                                 "ERR error: unknown error code '%.64s' (a "
                                 "librdkafka rd_kafka_resp_err_t number or "
                                 "name)",
                                 argv[3]);
                        return;
                }
                errs = malloc((size_t)n2 * sizeof(*errs));
                if (!errs) {
                        snprintf(reply, size, "ERR error: out of memory");
                        return;
                }
                for (i = 0; i < n2; i++)
                        errs[i] = err;
                rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)n1,
                                                        (size_t)n2, errs);
                free(errs);
                snprintf(reply, size, "OK");

        } else if (!strcmp(cmd, "clear-errors")) {
                if (argc > 2) {
                        snprintf(reply, size,
                                 "ERR clear-errors expects at most 1 argument: "
                                 "clear-errors [ApiKey]");
                        return;
                }
                if (argc == 2) {
                        if (parse_int(argv[1], 0, MAX_API_KEY, &n1)) {
                                snprintf(reply, size,
                                         "ERR clear-errors: ApiKey must be an "
                                         "integer 0..%d, got '%.64s'",
                                         MAX_API_KEY, argv[1]);
                                return;
                        }
                        rd_kafka_mock_clear_request_errors(mcluster,
                                                           (int16_t)n1);
                } else {
                        for (n1 = 0; n1 <= MAX_API_KEY; n1++)
                                rd_kafka_mock_clear_request_errors(
                                    mcluster, (int16_t)n1);
                }
                snprintf(reply, size, "OK");

        } else if (!strcmp(cmd, "quit")) {
                EXPECT_ARGS(0, "quit");
                quit_requested = 1;
                snprintf(reply, size, "OK");

        } else {
                snprintf(reply, size,
                         "ERR unknown command '%.64s' (try 'help')", cmd);
        }
#undef EXPECT_ARGS
}

/* ---------------------------------------------------------------- I/O */

/* Splits buffered input into lines and answers each. Returns -1 when the
 * reply could not be written (peer gone). */
static int serve_lines(conn_t *c) {
        char reply[MAX_LINE * 2];
        char *nl;

        while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
                size_t linelen = (size_t)(nl - c->buf);
                *nl            = '\0';

                if (c->overflow) {
                        c->overflow = 0;
                        if (emit(c->out_fd, "ERR line too long (max %d bytes)",
                                 MAX_LINE) < 0)
                                return -1;
                } else if (strspn(c->buf, " \t\r") != linelen) {
                        run_command(c->buf, reply, sizeof(reply));
                        if (emit(c->out_fd, "%s", reply) < 0)
                                return -1;
                }

                memmove(c->buf, nl + 1, c->len - linelen - 1);
                c->len -= linelen + 1;
                if (quit_requested)
                        return 0;
        }

        /* A full buffer without a newline: drop it, answer ERR once the line
         * finally ends. */
        if (c->len >= MAX_LINE) {
                c->overflow = 1;
                c->len      = 0;
        }
        return 0;
}

/* Reads what is available. Returns 1 on EOF/error, 0 otherwise. */
static int conn_read(conn_t *c) {
        ssize_t n;

        n = read(c->in_fd, c->buf + c->len, MAX_LINE - c->len);
        if (n < 0)
                return (errno == EINTR || errno == EAGAIN) ? 0 : 1;
        if (n == 0) {
                /* Answer a final line that lacks its newline. */
                if (c->len > 0 && !c->overflow) {
                        c->buf[c->len++] = '\n';
                        serve_lines(c);
                }
                return 1;
        }
        c->len += (size_t)n;
        return serve_lines(c) < 0 ? 1 : 0;
}

/* librdkafka logs go to stderr as usual, minus one warning that is expected
 * here: the hosting handle has no bootstrap.servers on purpose. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf) {
        (void)rk;
        if (!strcmp(fac, "CONFWARN") && strstr(buf, "bootstrap.servers"))
                return;
        fprintf(stderr, "kafka-mock: rdkafka %d %s: %s\n", level, fac, buf);
}

static void on_signal(int sig) {
        unsigned char b = (unsigned char)sig;
        int saved       = errno;
        /* Self-pipe: poll() in the main loop wakes up and shuts down cleanly;
         * nothing else is safe to do in a signal handler. */
        if (write(signal_pipe[1], &b, 1) < 0) {
                /* pipe full: a shutdown is already pending */
        }
        errno = saved;
}

static void install_signals(void) {
        struct sigaction sa;

        if (pipe(signal_pipe) < 0)
                die("pipe: %s", strerror(errno));
        fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK);
        fcntl(signal_pipe[0], F_SETFD, FD_CLOEXEC);
        fcntl(signal_pipe[1], F_SETFD, FD_CLOEXEC);

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        /* A control client that disconnects before reading its reply, or a
         * parent that closed our stdout, must not kill the cluster. */
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

static int listen_control(int port, int *bound_port) {
        struct sockaddr_in addr;
        socklen_t alen = sizeof(addr);
        int one        = 1;
        int fd         = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("control socket: %s", strerror(errno));
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        memset(&addr, 0, sizeof(addr));
        addr.sin_family      = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port        = htons((uint16_t)port);
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                die("cannot bind control port 127.0.0.1:%d: %s", port,
                    strerror(errno));
        if (listen(fd, 16) < 0)
                die("listen on control port: %s", strerror(errno));
        if (getsockname(fd, (struct sockaddr *)&addr, &alen) < 0)
                die("getsockname: %s", strerror(errno));
        *bound_port = ntohs(addr.sin_port);
        return fd;
}

static void accept_client(int lfd, conn_t **clients) {
        struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
        int fd            = accept(lfd, NULL, NULL);
        int i;

        if (fd < 0)
                return;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        /* Replies are written blocking; a client that never reads must not
         * stall the launcher forever. */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

        for (i = 0; i < MAX_CLIENTS; i++) {
                if (!clients[i]) {
                        clients[i] = calloc(1, sizeof(conn_t));
                        if (!clients[i])
                                break;
                        clients[i]->in_fd = clients[i]->out_fd = fd;
                        return;
                }
        }
        emit(fd, "ERR too many control clients (max %d)", MAX_CLIENTS);
        close(fd);
}

/* ---------------------------------------------------------------- main */

typedef struct {
        char *name;
        int partitions;
} topic_arg_t;

int main(int argc, char **argv) {
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        topic_arg_t targs[256];
        int tcnt = 0, i, control_port = 0, bound_port, use_stdin = 1,
            debug = 0;
        int lfd;
        conn_t stdin_conn = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO};
        conn_t *clients[MAX_CLIENTS] = {0};
        long v;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--brokers") && i + 1 < argc) {
                        if (parse_int(argv[++i], 1, MAX_BROKERS, &v))
                                usage_error("--brokers must be 1..%d, got '%s'",
                                            MAX_BROKERS, argv[i]);
                        broker_cnt = (int)v;
                } else if (!strcmp(a, "--topic") && i + 1 < argc) {
                        char *spec  = argv[++i];
                        char *colon = strrchr(spec, ':');
                        if (tcnt == (int)(sizeof(targs) / sizeof(targs[0])))
                                usage_error("too many --topic options");
                        if (!colon ||
                            parse_int(colon + 1, 1, MAX_PARTITIONS, &v))
                                usage_error("--topic expects name:partitions "
                                            "(partitions 1..%d), got '%s'",
                                            MAX_PARTITIONS, spec);
                        *colon = '\0';
                        if (!valid_topic_name(spec))
                                usage_error("--topic: '%s' is not a legal "
                                            "Kafka topic name",
                                            spec);
                        targs[tcnt].name       = spec;
                        targs[tcnt].partitions = (int)v;
                        tcnt++;
                } else if (!strcmp(a, "--control-port") && i + 1 < argc) {
                        if (parse_int(argv[++i], 0, 65535, &v))
                                usage_error("--control-port must be 0..65535, "
                                            "got '%s'",
                                            argv[i]);
                        control_port = (int)v;
                } else if (!strcmp(a, "--no-stdin")) {
                        use_stdin = 0;
                } else if (!strcmp(a, "--debug")) {
                        debug = 1;
                } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                        usage_error("a librdkafka mock Kafka cluster");
                } else {
                        usage_error("unknown or incomplete option '%s'", a);
                }
        }
        replication = broker_cnt < 3 ? broker_cnt : 3;

        install_signals();

        /* The handle only hosts the mock cluster (its thread, its logging);
         * it never talks to a broker itself. */
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, log_cb);
        if (debug &&
            rd_kafka_conf_set(conf, "debug", "mock", errstr, sizeof(errstr)))
                die("%s", errstr);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("rd_kafka_new: %s", errstr);

        mcluster = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mcluster)
                die("cannot create a mock cluster with %d brokers (see "
                    "librdkafka messages above)",
                    broker_cnt);

        for (i = 0; i < tcnt; i++) {
                char reply[MAX_LINE];
                create_topic(targs[i].name, targs[i].partitions, reply,
                             sizeof(reply));
                if (!strncmp(reply, "ERR", 3))
                        die("--topic %s:%d: %s", targs[i].name,
                            targs[i].partitions, reply + 4);
        }

        lfd = listen_control(control_port, &bound_port);

        if (emit(STDOUT_FILENO, "BOOTSTRAP %s",
                 rd_kafka_mock_cluster_bootstraps(mcluster)) < 0 ||
            emit(STDOUT_FILENO, "CONTROL 127.0.0.1:%d", bound_port) < 0 ||
            emit(STDOUT_FILENO, "READY") < 0)
                die("cannot write to stdout: %s", strerror(errno));

        while (!quit_requested) {
                struct pollfd pfds[3 + MAX_CLIENTS];
                int owner[3 + MAX_CLIENTS]; /* client index, or -1 */
                int nfds = 0, r;

                pfds[nfds].fd = signal_pipe[0];
                pfds[nfds].events = POLLIN;
                owner[nfds++]     = -1;
                pfds[nfds].fd     = lfd;
                pfds[nfds].events = POLLIN;
                owner[nfds++]     = -1;
                if (use_stdin) {
                        pfds[nfds].fd     = STDIN_FILENO;
                        pfds[nfds].events = POLLIN;
                        owner[nfds++]     = -1;
                }
                for (i = 0; i < MAX_CLIENTS; i++) {
                        if (clients[i]) {
                                pfds[nfds].fd     = clients[i]->in_fd;
                                pfds[nfds].events = POLLIN;
                                owner[nfds++]     = i;
                        }
                }

                r = poll(pfds, (nfds_t)nfds, -1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        die("poll: %s", strerror(errno));
                }

                if (pfds[0].revents)
                        break; /* SIGTERM / SIGINT / SIGHUP */
                if (pfds[1].revents & POLLIN)
                        accept_client(lfd, clients);
                if (use_stdin && pfds[2].revents) {
                        if (conn_read(&stdin_conn))
                                break; /* EOF: whoever started us is gone */
                }
                for (i = use_stdin ? 3 : 2; i < nfds && !quit_requested; i++) {
                        conn_t *c = clients[owner[i]];
                        if (!pfds[i].revents)
                                continue;
                        if (conn_read(c)) {
                                close(c->in_fd);
                                free(c);
                                clients[owner[i]] = NULL;
                        }
                }
        }

        for (i = 0; i < MAX_CLIENTS; i++) {
                if (clients[i]) {
                        close(clients[i]->in_fd);
                        free(clients[i]);
                }
        }
        close(lfd);
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        for (i = 0; i < (int)topic_cnt; i++)
                free(topics[i].name);
        free(topics);
        return 0;
}
