/*
 * player: connects to an RTSP URL with librtsp_core, receives frames through the callback and
 * writes them as frame-0001.jpg, frame-0002.jpg, ... then prints the statistics.
 *
 *   player rtsp://127.0.0.1:8554/movie.Mjpeg [max_frames] [seconds] [output_dir]
 *   player --lab HOST SERVER_PORT RTP_PORT FILE [max_frames] [seconds] [output_dir]
 *
 * Frames arrive on a library thread; the callback copies what it needs because the frame bytes
 * are valid only during the call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtsp_core.h"

struct player {
  const char *dir;
  unsigned long max_frames;
  atomic_ulong written;
  atomic_int ended;
  atomic_int write_failed;
};

static void on_state(void *userdata, enum rtsp_core_state state) {
  (void)userdata;
  static const char *names[] = {"INIT", "READY", "PLAYING"};
  fprintf(stderr, "state: %s\n", (unsigned)state < 3 ? names[state] : "?");
}

static void on_frame(void *userdata, const struct rtsp_core_frame *frame) {
  struct player *p = userdata;
  unsigned long n = atomic_load(&p->written);
  if (n >= p->max_frames) {
    return;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/frame-%04lu.jpg", p->dir, n + 1);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(frame->data, 1, frame->len, f) != frame->len) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    atomic_store(&p->write_failed, 1);
  }
  if (f != NULL) {
    fclose(f);
  }
  atomic_store(&p->written, n + 1);
}

static void on_error(void *userdata, enum rtsp_core_status status, const char *message) {
  (void)userdata;
  fprintf(stderr, "error (%d): %s\n", (int)status, message);
}

static void on_end(void *userdata) {
  struct player *p = userdata;
  atomic_store(&p->ended, 1);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int usage(void) {
  fprintf(stderr,
          "usage: player URL [max_frames] [seconds] [output_dir]\n"
          "       player --lab HOST SERVER_PORT RTP_PORT FILE [max_frames] [seconds] [output_dir]\n");
  return 2;
}

int main(int argc, char **argv) {
  struct rtsp_core_client_config config;
  rtsp_core_client_config_default(&config);
  int next;
  if (argc >= 2 && strcmp(argv[1], "--lab") == 0) {
    if (argc < 6) {
      return usage();
    }
    config.lab_host = argv[2];
    config.lab_server_port = (uint16_t)atoi(argv[3]);
    config.lab_rtp_port = (uint16_t)atoi(argv[4]);
    config.lab_file = argv[5];
    next = 6;
  } else if (argc >= 2) {
    config.url = argv[1];
    next = 2;
  } else {
    return usage();
  }
  struct player p = {
      .dir = argc > next + 2 ? argv[next + 2] : ".",
      .max_frames = argc > next ? strtoul(argv[next], NULL, 10) : 100,
  };
  long seconds = argc > next + 1 ? atol(argv[next + 1]) : 10;

  struct rtsp_core_client_callbacks callbacks = {
      .userdata = &p,
      .on_state = on_state,
      .on_frame = on_frame,
      .on_error = on_error,
      .on_end_of_stream = on_end,
  };
  struct rtsp_core_client *client = NULL;
  enum rtsp_core_status st = rtsp_core_client_new(&config, &callbacks, &client);
  if (st != RTSP_CORE_STATUS_OK) {
    fprintf(stderr, "connect: %s\n", rtsp_core_status_str(st));
    return 1;
  }
  st = rtsp_core_client_player_play(client);
  if (st != RTSP_CORE_STATUS_OK) {
    fprintf(stderr, "play: %s\n", rtsp_core_status_str(st));
    rtsp_core_client_free(client);
    return 1;
  }
  for (long waited = 0; waited < seconds * 1000; waited += 20) {
    if (atomic_load(&p.ended) || atomic_load(&p.written) >= p.max_frames) {
      break;
    }
    sleep_ms(20);
  }
  struct rtsp_core_stats s;
  rtsp_core_client_stats(client, &s);
  rtsp_core_client_player_stop(client);
  rtsp_core_client_free(client);

  printf("frames written:    %lu\n", atomic_load(&p.written));
  printf("packets received:  %llu (lost %llu, %.2f%%; duplicated %llu, reordered %llu)\n",
         (unsigned long long)s.packets_received, (unsigned long long)s.packets_lost,
         s.loss_rate * 100.0, (unsigned long long)s.packets_duplicated,
         (unsigned long long)s.packets_reordered);
  printf("frames:            %llu complete, %llu broken, %llu dropped\n",
         (unsigned long long)s.frames_complete, (unsigned long long)s.frames_broken,
         (unsigned long long)s.frames_dropped);
  printf("jitter:            %.3f ms\n", s.jitter_ms);
  printf("bitrate:           %.1f kbit/s (last 2 s), %.1f kbit/s (overall)\n",
         s.bitrate_bps_recent / 1000.0, s.bitrate_bps_overall / 1000.0);
  printf("frame rate:        %.2f fps (last 2 s), %.2f fps (overall)\n", s.frame_rate_fps_recent,
         s.frame_rate_fps_overall);
  if (s.first_frame_latency_ms >= 0.0) {
    printf("first frame after: %.1f ms\n", s.first_frame_latency_ms);
  }
  return atomic_load(&p.write_failed) || atomic_load(&p.written) == 0 ? 1 : 0;
}
