// parallel_image: blurs a generated greyscale image with a separable box filter, once with a
// serial loop and once with tessera::parallel_for over rows and an xsimd inner loop, checks that
// both agree and prints the times. Usage: parallel_image [width height radius]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "tessera/sched/sched.hpp"

namespace {

struct image {
  int width = 0;
  int height = 0;
  std::vector<float> pixels;
  float* row(int y) {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
  }
  const float* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
  }
};

image generate(int width, int height) {
  image img{width, height,
            std::vector<float>(static_cast<std::size_t>(width) * static_cast<std::size_t>(height))};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float rings = std::sin(0.05f * std::hypot(static_cast<float>(x - width / 2),
                                                      static_cast<float>(y - height / 2)));
      const float stripes = ((x / 16 + y / 16) % 2 == 0) ? 0.25f : -0.25f;
      img.row(y)[x] = 0.5f + 0.25f * rings + stripes;
    }
  }
  return img;
}

// Horizontal pass of one row: a running sum, clamped at the edges (inherently serial per row).
void blur_row_horizontal(const float* in, float* out, int width, int radius) {
  const float scale = 1.0f / static_cast<float>(2 * radius + 1);
  float sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += in[std::clamp(i, 0, width - 1)];
  for (int x = 0; x < width; ++x) {
    out[x] = sum * scale;
    sum += in[std::min(x + radius + 1, width - 1)] - in[std::max(x - radius, 0)];
  }
}

// Vertical pass of one output row: the average of 2r+1 input rows, scalar.
void blur_row_vertical_scalar(const image& in, float* out, int y, int radius) {
  const float scale = 1.0f / static_cast<float>(2 * radius + 1);
  for (int x = 0; x < in.width; ++x) {
    float sum = 0;
    for (int dy = -radius; dy <= radius; ++dy)
      sum += in.row(std::clamp(y + dy, 0, in.height - 1))[x];
    out[x] = sum * scale;
  }
}

// The same with xsimd batches across x (identical arithmetic order per pixel, so identical
// results).
void blur_row_vertical_simd(const image& in, float* out, int y, int radius) {
  using batch = xsimd::batch<float>;
  constexpr int w = static_cast<int>(batch::size);
  const float scale = 1.0f / static_cast<float>(2 * radius + 1);
  int x = 0;
  for (; x + w <= in.width; x += w) {
    batch sum(0.0f);
    for (int dy = -radius; dy <= radius; ++dy) {
      sum += batch::load_unaligned(in.row(std::clamp(y + dy, 0, in.height - 1)) + x);
    }
    (sum * batch(scale)).store_unaligned(out + x);
  }
  for (; x < in.width; ++x) {
    float sum = 0;
    for (int dy = -radius; dy <= radius; ++dy)
      sum += in.row(std::clamp(y + dy, 0, in.height - 1))[x];
    out[x] = sum * scale;
  }
}

image blur_serial(const image& src, int radius) {
  image tmp{src.width, src.height, std::vector<float>(src.pixels.size())};
  image dst = tmp;
  for (int y = 0; y < src.height; ++y)
    blur_row_horizontal(src.row(y), tmp.row(y), src.width, radius);
  for (int y = 0; y < src.height; ++y) blur_row_vertical_scalar(tmp, dst.row(y), y, radius);
  return dst;
}

image blur_serial_simd(const image& src, int radius) {
  image tmp{src.width, src.height, std::vector<float>(src.pixels.size())};
  image dst = tmp;
  for (int y = 0; y < src.height; ++y)
    blur_row_horizontal(src.row(y), tmp.row(y), src.width, radius);
  for (int y = 0; y < src.height; ++y) blur_row_vertical_simd(tmp, dst.row(y), y, radius);
  return dst;
}

image blur_parallel(tessera::scheduler& s, const image& src, int radius) {
  image tmp{src.width, src.height, std::vector<float>(src.pixels.size())};
  image dst = tmp;
  // Rows are independent within each pass; the automatic grain balances them over workers.
  tessera::parallel_for(s, 0, src.height, [&](int y) {
    blur_row_horizontal(src.row(y), tmp.row(y), src.width, radius);
  });
  tessera::parallel_for(s, 0, src.height,
                        [&](int y) { blur_row_vertical_simd(tmp, dst.row(y), y, radius); });
  return dst;
}

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int width = argc > 1 ? std::atoi(argv[1]) : 2048;
  const int height = argc > 2 ? std::atoi(argv[2]) : 2048;
  const int radius = argc > 3 ? std::atoi(argv[3]) : 4;
  if (width <= 0 || height <= 0 || radius < 0) {
    std::fprintf(stderr, "usage: parallel_image [width height radius] (positive sizes)\n");
    return 2;
  }
  const image src = generate(width, height);
  tessera::scheduler sched;  // hardware_concurrency workers; the caller joins in

  image serial, serial_simd, parallel;
  double t_serial = 1e30, t_simd = 1e30, t_parallel = 1e30;
  for (int rep = 0; rep < 3; ++rep) {  // best of three
    t_serial = std::min(t_serial, seconds([&] { serial = blur_serial(src, radius); }));
    t_simd = std::min(t_simd, seconds([&] { serial_simd = blur_serial_simd(src, radius); }));
    t_parallel =
        std::min(t_parallel, seconds([&] { parallel = blur_parallel(sched, src, radius); }));
  }
  float max_diff = 0;
  for (std::size_t i = 0; i < serial.pixels.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(serial.pixels[i] - parallel.pixels[i]));
    max_diff = std::max(max_diff, std::abs(serial.pixels[i] - serial_simd.pixels[i]));
  }
  std::printf("box blur %dx%d, radius %d, %u workers + caller, xsimd batch of %zu floats\n", width,
              height, radius, sched.workers(), xsimd::batch<float>::size);
  std::printf("  serial loop:                 %8.2f ms\n", t_serial * 1e3);
  std::printf("  serial loop + xsimd:         %8.2f ms  (%.2fx)\n", t_simd * 1e3,
              t_serial / t_simd);
  std::printf("  tessera::parallel_for+xsimd: %8.2f ms  (%.2fx)\n", t_parallel * 1e3,
              t_serial / t_parallel);
  std::printf("  max |serial - parallel| = %g\n", static_cast<double>(max_diff));
  if (max_diff > 1e-5f) {
    std::fprintf(stderr, "parallel_image: the parallel result differs from the serial one\n");
    return 1;
  }
  return 0;
}
