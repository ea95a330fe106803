// Catch2's main for every tests_<module> binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
