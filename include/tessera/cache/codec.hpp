// Serialization of keys and values for the tiers that store bytes (compressed_tier, disk_tier).
// Built in: trivially copyable types and std::string. For your own type, specialize
// tessera::caching::codec<T> with encode (append bytes) and decode (throw tessera::error on
// bytes that are not a T):
//
//   template <> struct tessera::caching::codec<point> {
//     static void encode(const point& p, std::string& out) { ... }
//     static point decode(std::string_view bytes) { ... }
//   };
#pragma once

#include <concepts>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "tessera/core/error.hpp"

namespace tessera::caching {

template <class T>
struct codec;  // primary: undefined, so a type without a codec fails to compile here

template <class T>
requires std::is_trivially_copyable_v<T>
struct codec<T> {
  static void encode(const T& v, std::string& out) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  static T decode(std::string_view bytes) {
    if (bytes.size() != sizeof(T)) {
      throw error("cached record", "holds " + std::to_string(bytes.size()) + " bytes where a " +
                                       std::to_string(sizeof(T)) + "-byte value was expected");
    }
    T v;
    std::memcpy(&v, bytes.data(), sizeof(T));
    return v;
  }
};

template <>
struct codec<std::string> {
  static void encode(const std::string& v, std::string& out) { out.append(v); }
  static std::string decode(std::string_view bytes) { return std::string(bytes); }
};

// A type the byte tiers can store.
template <class T>
concept serializable = requires(const T& v, std::string& out, std::string_view in) {
  codec<T>::encode(v, out);
  { codec<T>::decode(in) } -> std::convertible_to<T>;
};

template <serializable T>
[[nodiscard]] std::string encode(const T& v) {
  std::string out;
  codec<T>::encode(v, out);
  return out;
}

template <serializable T>
[[nodiscard]] T decode(std::string_view bytes) {
  return codec<T>::decode(bytes);
}

}  // namespace tessera::caching
