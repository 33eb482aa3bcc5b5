/*
 * publisher: pushes a JPEG file as a live RTP/JPEG stream to an RTSP server that records
 * (ANNOUNCE, SETUP mode=record, RECORD), COUNT times at FPS frames per second, then closes.
 *
 *   publisher [--udp] rtsp://[user:password@]host[:port]/path FILE.jpg [COUNT [FPS]]
 *
 * A real program would send each new camera frame instead of the same file; the timestamps
 * passed to rtsp_core_publisher_send are the frames' capture times.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtsp_core.h"

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = size > 0 ? malloc((size_t)size) : NULL;
  if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *len = data != NULL ? (size_t)size : 0;
  return data;
}

int main(int argc, char **argv) {
  int first = 1;
  bool udp = false;
  if (argc > 1 && strcmp(argv[1], "--udp") == 0) {
    udp = true;
    first = 2;
  }
  if (argc - first < 2) {
    fprintf(stderr, "usage: %s [--udp] rtsp://host[:port]/path FILE.jpg [COUNT [FPS]]\n", argv[0]);
    return 2;
  }
  const char *url = argv[first];
  const char *path = argv[first + 1];
  long count = argc - first > 2 ? atol(argv[first + 2]) : 100;
  long fps = argc - first > 3 ? atol(argv[first + 3]) : 20;
  if (count < 1 || fps < 1) {
    fprintf(stderr, "COUNT and FPS must be positive\n");
    return 2;
  }
  size_t len = 0;
  unsigned char *jpeg = read_file(path, &len);
  if (jpeg == NULL) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }

  struct rtsp_core_publisher_config config;
  rtsp_core_publisher_config_default(&config);
  config.url = url;
  config.transport = udp ? RTSP_CORE_TRANSPORT_UDP : RTSP_CORE_TRANSPORT_TCP;
  struct rtsp_core_publisher *publisher = NULL;
  enum rtsp_core_status st = rtsp_core_publisher_new(&config, &publisher);
  if (st != RTSP_CORE_STATUS_OK) {
    fprintf(stderr, "cannot publish to %s: %s\n", url, rtsp_core_status_str(st));
    free(jpeg);
    return 1;
  }
  long period_us = 1000000L / fps;
  int rc = 0;
  for (long i = 0; i < count; i++) {
    st = rtsp_core_publisher_send(publisher, jpeg, len, i * period_us);
    if (st != RTSP_CORE_STATUS_OK) {
      fprintf(stderr, "frame %ld refused: %s\n", i, rtsp_core_status_str(st));
      rc = 1;
      break;
    }
    struct timespec ts = {0, period_us * 1000L};
    nanosleep(&ts, NULL);
  }
  struct rtsp_core_publisher_counters sent;
  if (rtsp_core_publisher_get_counters(publisher, &sent) == RTSP_CORE_STATUS_OK) {
    printf("sent %llu frames in %llu RTP packets\n", (unsigned long long)sent.frames_sent,
           (unsigned long long)sent.packets_sent);
  }
  st = rtsp_core_publisher_close(publisher);
  if (st != RTSP_CORE_STATUS_OK) {
    fprintf(stderr, "close: %s\n", rtsp_core_status_str(st));
    rc = 1;
  }
  rtsp_core_publisher_free(publisher);
  free(jpeg);
  return rc;
}
