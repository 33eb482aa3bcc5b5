/*
 * test_ffi: exercises every function of rtsp_core.h, including the error paths (NULL handles and
 * arguments, bad URLs, refused connections), against a server started in-process. Run under
 * AddressSanitizer (make check) or valgrind (make valgrind): it must report no leak.
 *
 *   test_ffi [--player PATH] [--media DIR] [--jpeg FILE] [--url URL]
 *            [--lab-port N --lab-file NAME] [--kill-url URL --kill-pid PID]
 *            [--publish-url URL] [--forbidden-url URL]
 *
 * --media starts the in-process server (rtsp_core_server_start) on DIR and plays from it.
 * --publish-url publishes PUBLISH_FRAMES copies of --jpeg to URL (a recording server) over TCP,
 * then as many over UDP; the harness checks that the server decoded them all.
 * --forbidden-url publishes to URL, whose userinfo names a user the server lets read but not
 * publish: rtsp_core_publisher_new must fail with RTSP_CORE_STATUS_FORBIDDEN.
 * --kill-url plays URL, then SIGKILLs the server process PID mid-stream: on_error must come
 * within 2 s (the measured latency is printed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtsp_core.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                         \
  do {                                                                      \
    checks++;                                                               \
    if (!(cond)) {                                                          \
      failures++;                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                       \
  } while (0)

#define CHECK_STATUS(expr, expected)                                                   \
  do {                                                                                 \
    enum rtsp_core_status st_ = (expr);                                                \
    checks++;                                                                          \
    if (st_ != (expected)) {                                                           \
      failures++;                                                                      \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n", __FILE__, __LINE__, \
              #expr, (int)st_, rtsp_core_status_str(st_), (int)(expected));            \
    }                                                                                  \
  } while (0)

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A TCP port on 127.0.0.1 with nothing listening (bound, then closed). */
static uint16_t closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, (struct sockaddr *)&a, sizeof a);
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  return ntohs(a.sin_port);
}

static void test_status_and_version(void) {
  const char *v = rtsp_core_version();
  CHECK(v != NULL && strlen(v) > 0);
  /* The library loaded is the one this header describes. */
  CHECK(strcmp(v, RTSP_CORE_VERSION_STRING) == 0);
  char numbers[32];
  snprintf(numbers, sizeof numbers, "%d.%d.%d", RTSP_CORE_VERSION_MAJOR, RTSP_CORE_VERSION_MINOR,
           RTSP_CORE_VERSION_PATCH);
  CHECK(strncmp(v, numbers, strlen(numbers)) == 0);
  for (int i = 0; i <= (int)RTSP_CORE_STATUS_PANIC; i++) {
    const char *s = rtsp_core_status_str(i);
    CHECK(s != NULL && strlen(s) > 0);
  }
  CHECK(strcmp(rtsp_core_status_str(RTSP_CORE_STATUS_OK), "success") == 0);
  CHECK(strcmp(rtsp_core_status_str(-1), "unknown status") == 0);
  CHECK(strcmp(rtsp_core_status_str(1000), "unknown status") == 0);
}

/* Every client function with NULL handles and NULL arguments. */
static void test_client_null_paths(void) {
  struct rtsp_core_client_config config;
  struct rtsp_core_client *client = (struct rtsp_core_client *)0x1;
  CHECK_STATUS(rtsp_core_client_config_default(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_config_default(&config), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_new(NULL, NULL, &client), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  /* Neither a URL nor a lab target. */
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK(client == NULL);

  CHECK_STATUS(rtsp_core_client_describe(NULL, NULL, 0, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_setup(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_play(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_play_from(NULL, 1.0), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_pause(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_seek_seconds(NULL, 1.0), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_seek_frames(NULL, 1), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_forward(NULL, 20), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_backward(NULL, 20), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_restart(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_teardown(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_player_play(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_player_pause(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_player_stop(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  enum rtsp_core_state state;
  enum rtsp_core_transport transport;
  struct rtsp_core_stats stats;
  CHECK_STATUS(rtsp_core_client_state(NULL, &state), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_transport(NULL, &transport), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_client_stats(NULL, &stats), RTSP_CORE_STATUS_NULL_ARGUMENT);
  rtsp_core_client_free(NULL);
}

static void test_client_connect_errors(void) {
  struct rtsp_core_client_config config;
  struct rtsp_core_client *client = NULL;
  rtsp_core_client_config_default(&config);

  const char *bad_urls[] = {"", "http://127.0.0.1/x", "rtsp://", "rtsp://127.0.0.1:99999/x",
                            "not a url"};
  for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
    config.url = bad_urls[i];
    CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_BAD_URL);
    CHECK(client == NULL);
  }
  char url[128];
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%u/movie.Mjpeg", closed_port());
  config.url = url;
  config.reply_timeout_ms = 2000;
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_CONNECTION_REFUSED);
  CHECK(client == NULL);

  /* Lab target: refused, then invalid values. */
  config.url = NULL;
  config.lab_host = "127.0.0.1";
  config.lab_server_port = closed_port();
  config.lab_rtp_port = 0;
  config.lab_file = "movie.Mjpeg";
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_CONNECTION_REFUSED);
  config.lab_server_port = 0;
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_BAD_URL);
  config.lab_server_port = 554;
  config.lab_file = NULL;
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_NULL_ARGUMENT);
  config.lab_file = "movie.Mjpeg";
  config.transport = 7;
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_INVALID_ARGUMENT);
  CHECK(client == NULL);
}


/* ---- RTP packets ---------------------------------------------------------------------- */

/* rtsps:// to a server that speaks plain RTSP: a TLS error whatever the certificate check; an
   unreadable CA file is one too. */
static void test_client_tls_errors(uint16_t plain_port) {
  struct rtsp_core_client_config config;
  struct rtsp_core_client *client = NULL;
  rtsp_core_client_config_default(&config);
  CHECK(config.tls_ca_file == NULL && !config.tls_insecure_accept_any);
  char url[128];
  snprintf(url, sizeof url, "rtsps://127.0.0.1:%u/movie.Mjpeg", plain_port);
  config.url = url;
  config.reply_timeout_ms = 2000;
  config.tls_insecure_accept_any = true;
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_TLS);
  CHECK(client == NULL);
  config.tls_insecure_accept_any = false;
  config.tls_ca_file = "no-such-dir/ca.pem";
  CHECK_STATUS(rtsp_core_client_new(&config, NULL, &client), RTSP_CORE_STATUS_TLS);
  CHECK(client == NULL);
  CHECK(strlen(rtsp_core_status_str(RTSP_CORE_STATUS_UNTRUSTED_CERTIFICATE)) > 0);
}

static void test_rtp(void) {
  struct rtsp_core_rtp_header h = {.version = 2, .payload_type = 26, .sequence = 7,
                                   .timestamp = 1700000000u, .ssrc = 0xdeadbeefu};
  const uint8_t payload[] = {0xff, 0xd8, 1, 2, 3, 0xff, 0xd9};
  uint8_t buf[64];
  size_t n = 0;
  CHECK_STATUS(rtsp_core_rtp_encode(&h, payload, sizeof payload, NULL, 0, &n),
               RTSP_CORE_STATUS_BUFFER_TOO_SMALL);
  CHECK(n == 12 + sizeof payload);
  CHECK_STATUS(rtsp_core_rtp_encode(&h, payload, sizeof payload, buf, sizeof buf, &n),
               RTSP_CORE_STATUS_OK);
  CHECK(buf[0] == 0x80 && buf[1] == 26 && buf[2] == 0 && buf[3] == 7);
  struct rtsp_core_rtp_header back;
  size_t off = 0, len = 0;
  CHECK_STATUS(rtsp_core_rtp_decode(buf, n, &back, &off, &len), RTSP_CORE_STATUS_OK);
  CHECK(back.version == 2 && back.sequence == 7 && back.timestamp == 1700000000u &&
        back.ssrc == 0xdeadbeefu && back.payload_type == 26 && back.marker == 0);
  CHECK(off == 12 && len == sizeof payload && memcmp(buf + off, payload, len) == 0);
  /* Error paths. */
  struct rtsp_core_rtp_header bad = h;
  bad.payload_type = 200;
  CHECK_STATUS(rtsp_core_rtp_encode(&bad, payload, sizeof payload, buf, sizeof buf, &n),
               RTSP_CORE_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(rtsp_core_rtp_encode(NULL, payload, sizeof payload, buf, sizeof buf, &n),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_rtp_encode(&h, NULL, 3, buf, sizeof buf, &n),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_rtp_decode(buf, 11, &back, &off, &len), RTSP_CORE_STATUS_MALFORMED);
  CHECK_STATUS(rtsp_core_rtp_decode(NULL, 20, &back, &off, &len),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_rtp_decode(buf, n, NULL, NULL, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
}

/* ---- RFC 2435 --------------------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = size > 0 ? malloc((size_t)size) : NULL;
  if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *len = data != NULL ? (size_t)size : 0;
  return data;
}

/* Frames test_publisher sends per transport (the harness expects twice as many decoded). */
#define PUBLISH_FRAMES 10

static void test_publisher_errors(void) {
  struct rtsp_core_publisher_config config;
  struct rtsp_core_publisher *pub = (struct rtsp_core_publisher *)&config; /* must be reset */
  CHECK_STATUS(rtsp_core_publisher_config_default(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_publisher_config_default(&config), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_publisher_new(&config, &pub), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK(pub == NULL);
  CHECK_STATUS(rtsp_core_publisher_new(NULL, &pub), RTSP_CORE_STATUS_NULL_ARGUMENT);
  config.url = "http://127.0.0.1/live";
  CHECK_STATUS(rtsp_core_publisher_new(&config, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_publisher_new(&config, &pub), RTSP_CORE_STATUS_BAD_URL);
  char url[128];
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%u/live", closed_port());
  config.url = url;
  CHECK_STATUS(rtsp_core_publisher_new(&config, &pub), RTSP_CORE_STATUS_CONNECTION_REFUSED);
  CHECK(pub == NULL);
  config.transport = 7;
  CHECK_STATUS(rtsp_core_publisher_new(&config, &pub), RTSP_CORE_STATUS_INVALID_ARGUMENT);
  const uint8_t frame[] = {0xff, 0xd8, 0xff, 0xd9};
  CHECK_STATUS(rtsp_core_publisher_send(NULL, frame, sizeof frame, -1),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  struct rtsp_core_publisher_counters counters;
  CHECK_STATUS(rtsp_core_publisher_get_counters(NULL, &counters), RTSP_CORE_STATUS_NULL_ARGUMENT);
  struct rtsp_core_publisher_stats stats;
  CHECK_STATUS(rtsp_core_publisher_get_stats(NULL, &stats), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_publisher_close(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  rtsp_core_publisher_free(NULL);
}

/* Publishes PUBLISH_FRAMES copies of the JPEG at jpeg_path to url over `transport`. */
static void publish(const char *url, const char *jpeg_path, uint32_t transport) {
  size_t len = 0;
  uint8_t *jpeg = read_file(jpeg_path, &len);
  CHECK(jpeg != NULL);
  if (jpeg == NULL) {
    return;
  }
  struct rtsp_core_publisher_config config;
  rtsp_core_publisher_config_default(&config);
  config.url = url;
  config.transport = transport;
  struct rtsp_core_publisher *pub = NULL;
  CHECK_STATUS(rtsp_core_publisher_new(&config, &pub), RTSP_CORE_STATUS_OK);
  if (pub == NULL) {
    free(jpeg);
    return;
  }
  /* Bad input is refused with the parser's verdict and the stream goes on. */
  const uint8_t not_jpeg[] = "definitely not a JPEG";
  CHECK_STATUS(rtsp_core_publisher_send(pub, not_jpeg, sizeof not_jpeg, -1),
               RTSP_CORE_STATUS_MALFORMED);
  CHECK_STATUS(rtsp_core_publisher_send(pub, jpeg, len / 2, -1), RTSP_CORE_STATUS_UNSUPPORTED);
  CHECK_STATUS(rtsp_core_publisher_send(pub, NULL, 4, -1), RTSP_CORE_STATUS_NULL_ARGUMENT);
  for (int i = 0; i < PUBLISH_FRAMES; i++) {
    CHECK_STATUS(rtsp_core_publisher_send(pub, jpeg, len, (int64_t)i * 50000), RTSP_CORE_STATUS_OK);
    sleep_ms(50);
  }
  struct rtsp_core_publisher_counters counters;
  CHECK_STATUS(rtsp_core_publisher_get_counters(pub, &counters), RTSP_CORE_STATUS_OK);
  CHECK(counters.frames_sent == PUBLISH_FRAMES && counters.frames_reencoded == 0);
  CHECK(counters.packets_sent >= PUBLISH_FRAMES && counters.bytes_sent > 0);
  struct rtsp_core_publisher_stats stats;
  CHECK_STATUS(rtsp_core_publisher_get_stats(pub, &stats), RTSP_CORE_STATUS_OK);
  CHECK(stats.frames_sent == PUBLISH_FRAMES && stats.packets_sent == counters.packets_sent);
  CHECK(stats.bytes_sent == counters.bytes_sent && stats.frames_reencoded == 0);
  /* The two refusals above, by reason; NULL data is a caller error, not a refused frame. */
  CHECK(stats.frames_refused_not_jpeg == 1 && stats.frames_refused_unsupported == 1);
  CHECK(stats.frames_refused_reencode_failed == 0);
  /* A report may or may not have come yet; its measurements are there exactly when it has. */
  CHECK(stats.receiver_reports > 0 ? stats.report_fraction_lost >= 0.0
                                   : stats.report_fraction_lost == -1.0);
  /* The recording server's jitter buffer holds the newest frames a little: let them out
   * before the TEARDOWN ends its pipeline. */
  sleep_ms(1000);
  CHECK_STATUS(rtsp_core_publisher_close(pub), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_publisher_close(pub), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_publisher_send(pub, jpeg, len, -1), RTSP_CORE_STATUS_SHUTDOWN);
  /* Readable after close: the totals stay. */
  CHECK_STATUS(rtsp_core_publisher_get_stats(pub, &stats), RTSP_CORE_STATUS_OK);
  CHECK(stats.frames_sent == PUBLISH_FRAMES);
  CHECK_STATUS(rtsp_core_publisher_get_stats(pub, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  rtsp_core_publisher_free(pub);
  free(jpeg);
}

/* A user who may read but not publish is refused with its own status, not a generic error. */
static void test_publisher_forbidden(const char *url) {
  CHECK(RTSP_CORE_STATUS_FORBIDDEN == 66); /* a published value never changes */
  CHECK(strstr(rtsp_core_status_str(RTSP_CORE_STATUS_FORBIDDEN), "forbids") != NULL);
  if (url == NULL) {
    fprintf(stderr, "test_ffi: no --forbidden-url, the 403 test skipped\n");
    return;
  }
  struct rtsp_core_publisher_config config;
  rtsp_core_publisher_config_default(&config);
  config.url = url;
  struct rtsp_core_publisher *pub = (struct rtsp_core_publisher *)&config; /* must be reset */
  CHECK_STATUS(rtsp_core_publisher_new(&config, &pub), RTSP_CORE_STATUS_FORBIDDEN);
  CHECK(pub == NULL);
  printf("publishing as a reader: RTSP_CORE_STATUS_FORBIDDEN\n");
}

static void test_publisher(const char *url, const char *jpeg_path) {
  if (url == NULL || jpeg_path == NULL) {
    fprintf(stderr, "test_ffi: no --publish-url and --jpeg, publishing skipped\n");
    return;
  }
  publish(url, jpeg_path, RTSP_CORE_TRANSPORT_TCP);
  publish(url, jpeg_path, RTSP_CORE_TRANSPORT_UDP);
  printf("published %d frames over TCP and %d over UDP\n", PUBLISH_FRAMES, PUBLISH_FRAMES);
}

static void test_jpeg(const char *jpeg_path) {
  struct rtsp_core_jpeg_packetizer *p = NULL;
  struct rtsp_core_jpeg_depacketizer *d = NULL;
  CHECK_STATUS(rtsp_core_jpeg_packetizer_new(0, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_jpeg_packetizer_new(3, &p), RTSP_CORE_STATUS_INVALID_ARGUMENT);
  CHECK(p == NULL);
  CHECK_STATUS(rtsp_core_jpeg_packetizer_new(1000, &p), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_jpeg_depacketizer_new(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_jpeg_depacketizer_new(&d), RTSP_CORE_STATUS_OK);
  const uint8_t not_jpeg[] = "definitely not a JPEG";
  size_t count = 0;
  CHECK_STATUS(rtsp_core_jpeg_packetizer_push_frame(p, not_jpeg, sizeof not_jpeg, &count),
               RTSP_CORE_STATUS_MALFORMED);
  const uint8_t progressive_soi[] = {0xff, 0xd8, 0xff, 0xc2, 0, 2};
  CHECK_STATUS(rtsp_core_jpeg_packetizer_push_frame(p, progressive_soi, sizeof progressive_soi,
                                                    &count),
               RTSP_CORE_STATUS_UNSUPPORTED);
  CHECK_STATUS(rtsp_core_jpeg_packetizer_push_frame(NULL, not_jpeg, 4, &count),
               RTSP_CORE_STATUS_NULL_ARGUMENT);

  size_t jpeg_len = 0;
  uint8_t *jpeg = jpeg_path != NULL ? read_file(jpeg_path, &jpeg_len) : NULL;
  if (jpeg == NULL) {
    fprintf(stderr, "test_ffi: no JPEG given (--jpeg), RFC 2435 round trip skipped\n");
  } else {
    CHECK_STATUS(rtsp_core_jpeg_packetizer_push_frame(p, jpeg, jpeg_len, &count),
                 RTSP_CORE_STATUS_OK);
    CHECK(count >= 1);
    uint8_t payload[1500], packet[1600];
    size_t len = 0, plen = 0, taken = 0;
    bool last = false;
    const uint8_t *frame = NULL;
    size_t frame_len = 0;
    CHECK_STATUS(rtsp_core_jpeg_packetizer_next(p, payload, 4, &len, &last),
                 RTSP_CORE_STATUS_BUFFER_TOO_SMALL);
    enum rtsp_core_status st = RTSP_CORE_STATUS_NOT_READY;
    while (rtsp_core_jpeg_packetizer_next(p, payload, sizeof payload, &len, &last) ==
           RTSP_CORE_STATUS_OK) {
      taken++;
      CHECK(len <= 1000);
      struct rtsp_core_rtp_header h = {.version = 2, .payload_type = 26,
                                       .sequence = (uint16_t)taken, .timestamp = 4500,
                                       .ssrc = 1, .marker = last ? 1 : 0};
      CHECK_STATUS(rtsp_core_rtp_encode(&h, payload, len, packet, sizeof packet, &plen),
                   RTSP_CORE_STATUS_OK);
      struct rtsp_core_rtp_header back;
      size_t off = 0, n = 0;
      CHECK_STATUS(rtsp_core_rtp_decode(packet, plen, &back, &off, &n), RTSP_CORE_STATUS_OK);
      st = rtsp_core_jpeg_depacketizer_push(d, back.timestamp, back.marker != 0, packet + off, n,
                                            &frame, &frame_len);
      CHECK(st == (last ? RTSP_CORE_STATUS_OK : RTSP_CORE_STATUS_NOT_READY));
    }
    CHECK(taken == count);
    CHECK(st == RTSP_CORE_STATUS_OK && frame != NULL && frame_len > 4);
    if (frame != NULL && frame_len > 4) {
      CHECK(frame[0] == 0xff && frame[1] == 0xd8);
      CHECK(frame[frame_len - 2] == 0xff && frame[frame_len - 1] == 0xd9);
    }
    CHECK_STATUS(rtsp_core_jpeg_packetizer_next(p, payload, sizeof payload, &len, &last),
                 RTSP_CORE_STATUS_NOT_READY);
    uint64_t complete = 0, dropped = 0;
    const rtsp_core_jpeg_depacketizer *dview = d;
    CHECK_STATUS(rtsp_core_jpeg_depacketizer_stats(dview, &complete, &dropped),
                 RTSP_CORE_STATUS_OK);
    CHECK(complete == 1 && dropped == 0);
    /* The same frame claiming 2048 pixels of width: RFC 2435 payloads cannot state it (it needs
       the RTP header extension the server adds), so this packetizer refuses it. */
    for (size_t i = 0; i + 9 < jpeg_len; i++) {
      if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
        jpeg[i + 7] = 0x08;
        jpeg[i + 8] = 0x00;
        break;
      }
    }
    CHECK_STATUS(rtsp_core_jpeg_packetizer_push_frame(p, jpeg, jpeg_len, &count),
                 RTSP_CORE_STATUS_UNSUPPORTED);
    free(jpeg);
  }
  const uint8_t *frame = NULL;
  size_t frame_len = 0;
  CHECK_STATUS(rtsp_core_jpeg_depacketizer_push(NULL, 0, true, not_jpeg, 4, &frame, &frame_len),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_jpeg_depacketizer_push(d, 0, true, not_jpeg, 4, NULL, &frame_len),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  /* A payload too short for the RFC 2435 header is discarded. */
  CHECK_STATUS(rtsp_core_jpeg_depacketizer_push(d, 9000, true, not_jpeg, 4, &frame, &frame_len),
               RTSP_CORE_STATUS_NOT_READY);
  CHECK_STATUS(rtsp_core_jpeg_depacketizer_stats(NULL, NULL, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  size_t len = 0;
  CHECK_STATUS(rtsp_core_jpeg_packetizer_next(NULL, NULL, 0, &len, NULL),
               RTSP_CORE_STATUS_NULL_ARGUMENT);
  rtsp_core_jpeg_packetizer_free(p);
  rtsp_core_jpeg_depacketizer_free(d);
  rtsp_core_jpeg_packetizer_free(NULL);
  rtsp_core_jpeg_depacketizer_free(NULL);
}

/* ---- Client sessions ---------------------------------------------------------------------- */

struct seen {
  atomic_int frames;
  atomic_int states;
  atomic_int stats;
  atomic_int descriptions;
  atomic_int errors;
  atomic_int ends;
  atomic_int bad_frames;
  atomic_int last_state;
  /* on_message: requests sent, replies received, and the first request's text. */
  atomic_int sent;
  atomic_int received;
  char first_sent[64];
  /* CLOCK_MONOTONIC nanoseconds of the first on_error (0 = none yet). */
  atomic_llong first_error_ns;
};

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cb_state(void *ud, enum rtsp_core_state state) {
  struct seen *s = ud;
  if ((unsigned)state > RTSP_CORE_STATE_PLAYING) {
    atomic_fetch_add(&s->bad_frames, 1);
  }
  atomic_store(&s->last_state, (int)state);
  atomic_fetch_add(&s->states, 1);
}

static void cb_frame(void *ud, const struct rtsp_core_frame *f) {
  struct seen *s = ud;
  if (f == NULL || f->data == NULL || f->len < 4 || f->data[0] != 0xff || f->data[1] != 0xd8 ||
      f->data[f->len - 2] != 0xff || f->data[f->len - 1] != 0xd9) {
    atomic_fetch_add(&s->bad_frames, 1);
  }
  atomic_fetch_add(&s->frames, 1);
}

static void cb_stats(void *ud, const struct rtsp_core_stats *st) {
  struct seen *s = ud;
  (void)st;
  atomic_fetch_add(&s->stats, 1);
}

static void cb_description(void *ud, const char *content_type, const char *text) {
  struct seen *s = ud;
  if (content_type != NULL && text != NULL && strstr(text, "m=video") != NULL) {
    atomic_fetch_add(&s->descriptions, 1);
  }
}

static void cb_error(void *ud, enum rtsp_core_status status, const char *message) {
  struct seen *s = ud;
  fprintf(stderr, "  (background error %d: %s)\n", (int)status, message);
  long long none = 0;
  atomic_compare_exchange_strong(&s->first_error_ns, &none, now_ns());
  atomic_fetch_add(&s->errors, 1);
}

static void cb_end(void *ud) {
  struct seen *s = ud;
  atomic_fetch_add(&s->ends, 1);
}

static void cb_message(void *ud, const struct rtsp_core_message *m) {
  struct seen *s = ud;
  if (m == NULL || m->text == NULL || strlen(m->text) != m->len) {
    atomic_fetch_add(&s->bad_frames, 1);
    return;
  }
  if (m->direction == RTSP_CORE_MESSAGE_DIRECTION_SENT) {
    /* Callbacks run one at a time, so the first one is alone here. */
    if (atomic_fetch_add(&s->sent, 1) == 0) {
      snprintf(s->first_sent, sizeof s->first_sent, "%s", m->text);
    }
  } else if (strncmp(m->text, "RTSP/1.", 7) == 0) { /* the lab extension's replies: RTSP/1.4 */
    atomic_fetch_add(&s->received, 1);
  }
}

static int wait_frames(struct seen *s, int n, int ms) {
  for (int t = 0; t < ms && atomic_load(&s->frames) < n; t += 10) {
    sleep_ms(10);
  }
  return atomic_load(&s->frames) >= n;
}

static struct rtsp_core_client_callbacks callbacks_for(struct seen *s) {
  struct rtsp_core_client_callbacks cb = {
      .userdata = s,
      .on_state = cb_state,
      .on_frame = cb_frame,
      .on_stats = cb_stats,
      .on_description = cb_description,
      .on_error = cb_error,
      .on_end_of_stream = cb_end,
      .on_message = cb_message,
  };
  return cb;
}

/* Seeks: a server may refuse to seek a live source; anything but a crash or a local error is
 * fine then. */
static int seek_ok(enum rtsp_core_status st) {
  return st == RTSP_CORE_STATUS_OK || st == RTSP_CORE_STATUS_SERVER_ERROR;
}

static void test_client_standard(const char *url, int seekable) {
  struct seen s = {0};
  struct rtsp_core_client_callbacks cb = callbacks_for(&s);
  struct rtsp_core_client_config config;
  rtsp_core_client_config_default(&config);
  config.url = url;
  config.stats_interval_ms = 200;
  struct rtsp_core_client *c = NULL;
  CHECK_STATUS(rtsp_core_client_new(&config, &cb, &c), RTSP_CORE_STATUS_OK);
  if (c == NULL) {
    return;
  }
  char small[8];
  size_t len = 0;
  CHECK_STATUS(rtsp_core_client_describe(c, small, sizeof small, &len),
               RTSP_CORE_STATUS_BUFFER_TOO_SMALL);
  CHECK(len > sizeof small && strlen(small) == sizeof small - 1);
  /* Each call sends a new DESCRIBE, and a server may answer the second one with a slightly
   * longer description (GStreamer's carries a changing range): leave headroom. */
  size_t cap = len + 256;
  char *text = malloc(cap);
  CHECK_STATUS(rtsp_core_client_describe(c, text, cap, &len), RTSP_CORE_STATUS_OK);
  CHECK(len < cap && strlen(text) == len);
  CHECK(strstr(text, "m=video") != NULL);
  free(text);
  CHECK_STATUS(rtsp_core_client_setup(c), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_setup(c), RTSP_CORE_STATUS_BAD_STATE);
  /* Queries read through a const handle (-Werror turns a dropped const into a build failure). */
  const rtsp_core_client *view = c;
  enum rtsp_core_transport tr;
  CHECK_STATUS(rtsp_core_client_transport(view, &tr), RTSP_CORE_STATUS_OK);
  CHECK(tr == RTSP_CORE_TRANSPORT_UDP);
  CHECK_STATUS(rtsp_core_client_play(c), RTSP_CORE_STATUS_OK);
  CHECK(wait_frames(&s, 10, 10000));
  CHECK_STATUS(rtsp_core_client_pause(c), RTSP_CORE_STATUS_OK);
  enum rtsp_core_state state;
  CHECK_STATUS(rtsp_core_client_state(view, &state), RTSP_CORE_STATUS_OK);
  CHECK(state == RTSP_CORE_STATE_READY);
  enum rtsp_core_status st = rtsp_core_client_play_from(c, 1.0);
  CHECK(seek_ok(st));
  if (seekable) {
    CHECK(st == RTSP_CORE_STATUS_OK);
  }
  CHECK(seek_ok(rtsp_core_client_seek_seconds(c, 2.0)));
  CHECK(seek_ok(rtsp_core_client_seek_frames(c, 10)));
  CHECK(seek_ok(rtsp_core_client_forward(c, 20)));
  CHECK(seek_ok(rtsp_core_client_backward(c, 20)));
  CHECK(seek_ok(rtsp_core_client_restart(c)));
  CHECK_STATUS(rtsp_core_client_player_pause(c), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_player_play(c), RTSP_CORE_STATUS_OK);
  int before = atomic_load(&s.frames);
  CHECK(wait_frames(&s, before + 5, 10000));
  struct rtsp_core_stats stats;
  CHECK_STATUS(rtsp_core_client_stats(view, &stats), RTSP_CORE_STATUS_OK);
  CHECK(stats.packets_received > 0 && stats.frames_complete >= 10 && stats.frames_broken == 0);
  CHECK(stats.first_frame_latency_ms >= 0.0);
  CHECK_STATUS(rtsp_core_client_teardown(c), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_teardown(c), RTSP_CORE_STATUS_BAD_STATE);
  CHECK_STATUS(rtsp_core_client_player_stop(c), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_player_play(c), RTSP_CORE_STATUS_OK);
  rtsp_core_client_free(c); /* tears down the second session itself */
  CHECK(atomic_load(&s.descriptions) >= 2);
  CHECK(atomic_load(&s.states) >= 6);
  CHECK(atomic_load(&s.stats) >= 1);
  CHECK(atomic_load(&s.bad_frames) == 0);
  printf("test_ffi: %s: %d frames, %d stats callbacks\n", url, atomic_load(&s.frames),
         atomic_load(&s.stats));
}

/* Every field of the statistics as a "stats.NAME=VALUE" line: the Rust test that runs this
 * program compares the names with the engine's field list, so a field added to the struct
 * must be added here too. */
static void print_stats(const struct rtsp_core_stats *st) {
  printf("stats.packets_received=%llu\n", (unsigned long long)st->packets_received);
  printf("stats.packets_expected=%llu\n", (unsigned long long)st->packets_expected);
  printf("stats.packets_lost=%llu\n", (unsigned long long)st->packets_lost);
  printf("stats.packets_duplicated=%llu\n", (unsigned long long)st->packets_duplicated);
  printf("stats.packets_reordered=%llu\n", (unsigned long long)st->packets_reordered);
  printf("stats.loss_rate=%g\n", st->loss_rate);
  printf("stats.bytes_received=%llu\n", (unsigned long long)st->bytes_received);
  printf("stats.frames_complete=%llu\n", (unsigned long long)st->frames_complete);
  printf("stats.frames_broken=%llu\n", (unsigned long long)st->frames_broken);
  printf("stats.frames_dropped=%llu\n", (unsigned long long)st->frames_dropped);
  printf("stats.jitter_ms=%g\n", st->jitter_ms);
  printf("stats.bitrate_bps_recent=%g\n", st->bitrate_bps_recent);
  printf("stats.bitrate_bps_overall=%g\n", st->bitrate_bps_overall);
  printf("stats.frame_rate_fps_recent=%g\n", st->frame_rate_fps_recent);
  printf("stats.frame_rate_fps_overall=%g\n", st->frame_rate_fps_overall);
  printf("stats.first_frame_latency_ms=%g\n", st->first_frame_latency_ms);
}

static void test_client_lab(uint16_t port, const char *file) {
  struct seen s = {0};
  struct rtsp_core_client_callbacks cb = callbacks_for(&s);
  struct rtsp_core_client_config config;
  rtsp_core_client_config_default(&config);
  config.lab_host = "127.0.0.1";
  config.lab_server_port = port;
  config.lab_rtp_port = 0;
  config.lab_file = file;
  struct rtsp_core_client *c = NULL;
  CHECK_STATUS(rtsp_core_client_new(&config, &cb, &c), RTSP_CORE_STATUS_OK);
  if (c == NULL) {
    return;
  }
  CHECK_STATUS(rtsp_core_client_pause(c), RTSP_CORE_STATUS_BAD_STATE);
  CHECK_STATUS(rtsp_core_client_player_play(c), RTSP_CORE_STATUS_OK);
  CHECK(wait_frames(&s, 5, 5000));
  CHECK_STATUS(rtsp_core_client_forward(c, 20), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_backward(c, 20), RTSP_CORE_STATUS_OK);
  CHECK_STATUS(rtsp_core_client_restart(c), RTSP_CORE_STATUS_OK);
  int before = atomic_load(&s.frames);
  CHECK(wait_frames(&s, before + 5, 5000));
  CHECK_STATUS(rtsp_core_client_player_pause(c), RTSP_CORE_STATUS_OK);
  sleep_ms(200); /* what was in flight */
  struct rtsp_core_stats stats;
  CHECK_STATUS(rtsp_core_client_stats(c, &stats), RTSP_CORE_STATUS_OK);
  print_stats(&stats);
  /* The lab's seeks renumber the frames on purpose: one packet is one frame throughout. */
  CHECK(stats.packets_duplicated == 0 && stats.packets_lost == 0);
  CHECK(stats.packets_received == stats.frames_complete);
  CHECK(stats.first_frame_latency_ms >= 0.0 && stats.frame_rate_fps_overall > 0.0);
  CHECK_STATUS(rtsp_core_client_player_stop(c), RTSP_CORE_STATUS_OK);
  enum rtsp_core_state state;
  CHECK_STATUS(rtsp_core_client_state(c, &state), RTSP_CORE_STATUS_OK);
  CHECK(state == RTSP_CORE_STATE_INIT);
  rtsp_core_client_free(c);
  CHECK(atomic_load(&s.bad_frames) == 0 && atomic_load(&s.errors) == 0);
  /* The protocol log: SETUP, PLAY, FORWARD, BACKWARD, RESTART, PAUSE, TEARDOWN, each answered. */
  CHECK(atomic_load(&s.sent) == 7 && atomic_load(&s.received) == 7);
  CHECK(strncmp(s.first_sent, "SETUP ", 6) == 0 && strstr(s.first_sent, "\nCSeq: 1\n") != NULL);
  printf("test_ffi: lab server on port %u: %d frames, %d RTSP messages logged\n", port,
         atomic_load(&s.frames), atomic_load(&s.sent) + atomic_load(&s.received));
}

/* The server process dies mid-stream (SIGKILL: no TEARDOWN reply, no RTCP BYE, the kernel
 * closes its sockets): on_error must report it within 2 s, the state must drop to INIT, and a
 * request afterwards must fail instead of hanging. */
static void test_server_killed(const char *url, pid_t pid) {
  struct seen s = {0};
  struct rtsp_core_client_callbacks cb = callbacks_for(&s);
  struct rtsp_core_client_config config;
  rtsp_core_client_config_default(&config);
  config.url = url;
  struct rtsp_core_client *c = NULL;
  CHECK_STATUS(rtsp_core_client_new(&config, &cb, &c), RTSP_CORE_STATUS_OK);
  if (c == NULL) {
    return;
  }
  CHECK_STATUS(rtsp_core_client_player_play(c), RTSP_CORE_STATUS_OK);
  CHECK(wait_frames(&s, 5, 10000));
  long long killed = now_ns();
  CHECK(kill(pid, SIGKILL) == 0);
  for (int t = 0; t < 5000 && atomic_load(&s.first_error_ns) == 0; t += 5) {
    sleep_ms(5);
  }
  long long reported = atomic_load(&s.first_error_ns);
  CHECK(reported != 0);
  double latency_ms = reported != 0 ? (double)(reported - killed) / 1e6 : -1.0;
  CHECK(latency_ms >= 0.0 && latency_ms < 2000.0);
  CHECK(atomic_load(&s.last_state) == RTSP_CORE_STATE_INIT);
  long long before = now_ns();
  CHECK(rtsp_core_client_pause(c) != RTSP_CORE_STATUS_OK);
  CHECK(now_ns() - before < 6000000000LL);
  rtsp_core_client_free(c);
  CHECK(atomic_load(&s.bad_frames) == 0);
  printf("test_ffi: server killed mid-stream: on_error %.1f ms after SIGKILL\n", latency_ms);
}

/* ---- Server handle ------------------------------------------------------------------------ */

/* Returns a started server, or NULL when this library has no server runtime. */
static struct rtsp_core_server *test_server(const char *media_dir) {
  struct rtsp_core_server *srv = (struct rtsp_core_server *)0x1;
  uint16_t port = 0;
  CHECK_STATUS(rtsp_core_server_start(NULL, 0, &srv), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_server_start(".", 0, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_server_start("/nonexistent/media/dir", 0, &srv),
               RTSP_CORE_STATUS_INVALID_ARGUMENT);
  CHECK(srv == NULL);
  CHECK_STATUS(rtsp_core_server_port(NULL, &port), RTSP_CORE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(rtsp_core_server_stop(NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  rtsp_core_server_free(NULL);
  if (media_dir == NULL) {
    return NULL;
  }
  CHECK_STATUS(rtsp_core_server_start(media_dir, 0, &srv), RTSP_CORE_STATUS_OK);
  if (srv == NULL) {
    return NULL;
  }
  CHECK_STATUS(rtsp_core_server_port(srv, NULL), RTSP_CORE_STATUS_NULL_ARGUMENT);
  const rtsp_core_server *sview = srv;
  CHECK_STATUS(rtsp_core_server_port(sview, &port), RTSP_CORE_STATUS_OK);
  CHECK(port != 0);
  /* The same port again is taken. */
  struct rtsp_core_server *second = NULL;
  CHECK_STATUS(rtsp_core_server_start(media_dir, port, &second), RTSP_CORE_STATUS_IO);
  CHECK(second == NULL);
  return srv;
}

static void run_player(const char *player, const char *url) {
  char dir[] = "/tmp/test_ffi_player_XXXXXX";
  if (mkdtemp(dir) == NULL) {
    CHECK(0);
    return;
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s '%s' 5 10 %s > %s/out.txt", player, url, dir, dir);
  CHECK(system(cmd) == 0);
  char path[256];
  for (int i = 1; i <= 5; i++) {
    snprintf(path, sizeof path, "%s/frame-%04d.jpg", dir, i);
    size_t len = 0;
    uint8_t *data = read_file(path, &len);
    CHECK(data != NULL && len > 4 && data[0] == 0xff && data[1] == 0xd8);
    free(data);
    remove(path);
  }
  snprintf(path, sizeof path, "%s/out.txt", dir);
  size_t len = 0;
  uint8_t *out = read_file(path, &len);
  CHECK(out != NULL && len > 0 && memmem(out, len, "frames written:    5", 20) != NULL);
  free(out);
  remove(path);
  rmdir(dir);
}

static const char *arg(int argc, char **argv, const char *name) {
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], name) == 0) {
      return argv[i + 1];
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *player = arg(argc, argv, "--player");
  const char *media = arg(argc, argv, "--media");
  const char *jpeg = arg(argc, argv, "--jpeg");
  const char *url = arg(argc, argv, "--url");
  const char *lab_port = arg(argc, argv, "--lab-port");
  const char *lab_file = arg(argc, argv, "--lab-file");
  const char *kill_url = arg(argc, argv, "--kill-url");
  const char *kill_pid = arg(argc, argv, "--kill-pid");
  const char *publish_url = arg(argc, argv, "--publish-url");
  const char *forbidden_url = arg(argc, argv, "--forbidden-url");

  test_status_and_version();
  test_client_null_paths();
  test_client_connect_errors();
  test_rtp();
  test_jpeg(jpeg);
  test_publisher_errors();
  test_publisher(publish_url, jpeg);
  test_publisher_forbidden(forbidden_url);

  struct rtsp_core_server *srv = test_server(media);
  if (srv != NULL) {
    uint16_t port = 0;
    rtsp_core_server_port(srv, &port);
    char own[256];
    snprintf(own, sizeof own, "rtsp://127.0.0.1:%u/%s", port, lab_file ? lab_file : "movie.Mjpeg");
    test_client_standard(own, 1);
    test_client_tls_errors(port);
    test_client_lab(port, lab_file ? lab_file : "movie.Mjpeg");
    if (player != NULL) {
      run_player(player, own);
    }
    CHECK_STATUS(rtsp_core_server_stop(srv), RTSP_CORE_STATUS_OK);
    CHECK_STATUS(rtsp_core_server_stop(srv), RTSP_CORE_STATUS_OK);
    rtsp_core_server_free(srv);
  }
  if (url != NULL) {
    test_client_standard(url, 0);
    if (player != NULL) {
      run_player(player, url);
    }
  }
  if (lab_port != NULL) {
    test_client_lab((uint16_t)atoi(lab_port), lab_file ? lab_file : "movie.Mjpeg");
  }
  if (kill_url != NULL && kill_pid != NULL) {
    test_server_killed(kill_url, (pid_t)atoi(kill_pid));
  }
  printf("test_ffi: %d checks, %d failed\n", checks, failures);
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
