/*
 * test_ffi: exercises every function of rtsp_core.h, including the error paths (NULL handles and
 * arguments, bad URLs, refused connections), against a server started in-process. Run under
 * AddressSanitizer (make check) or valgrind (make valgrind): it must report no leak.
 *
 *   test_ffi [path/to/player]     (the player example is run against the same server if given)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

__attribute__((unused)) static void sleep_ms(long ms) {
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

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  test_status_and_version();
  test_client_null_paths();
  test_client_connect_errors();
  printf("test_ffi: %d checks, %d failed\n", checks, failures);
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
