// Route the rows of a .npy file (float32, n x dim, C order) with a saved router, all rows in one
// av_route_batch call through the C++ wrapper, and print the chosen model's name for each row.
//
//   c++ -std=c++17 route.cpp $(pkg-config --cflags --libs avengers) -o route_cpp
//   ./route_cpp router.avr embeddings.npy [alpha=0.5] [max_rows]
#include <avengers/avengers.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

// A minimal .npy reader: format 1.x, dtype '<f4', C order, 2-D.
static std::vector<float> read_npy(const std::string &path, std::size_t &n, std::size_t &d)
{
    std::ifstream f(path, std::ios::binary);
    char pre[10];
    if (!f.read(pre, 10) || std::string(pre, 7) != "\x93NUMPY\x01")
        throw std::runtime_error(path + ": not a .npy file");
    std::string hdr(static_cast<unsigned char>(pre[8]) | static_cast<unsigned char>(pre[9]) << 8, '\0');
    unsigned long r = 0, c = 0;
    if (!f.read(&hdr[0], static_cast<std::streamsize>(hdr.size())))
        throw std::runtime_error(path + ": truncated header");
    std::size_t at = hdr.find("'shape': (");
    if (hdr.find("'<f4'") == std::string::npos ||
        hdr.find("'fortran_order': False") == std::string::npos || at == std::string::npos ||
        std::sscanf(hdr.c_str() + at, "'shape': (%lu, %lu)", &r, &c) != 2)
        throw std::runtime_error(path + ": not a 2-D float32 C-order .npy");
    std::vector<float> x(r * c);
    if (!f.read(reinterpret_cast<char *>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float))))
        throw std::runtime_error(path + ": truncated");
    n = r;
    d = c;
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " router.avr embeddings.npy [alpha] [max_rows]\n";
        return 2;
    }
    try {
        avengers::Router router = avengers::Router::load(argv[1]);
        float alpha = argc > 3 ? std::strtof(argv[3], nullptr) : 0.5f;
        std::size_t n = 0, d = 0;
        std::vector<float> x = read_npy(argv[2], n, d);
        if (argc > 4 && std::strtoul(argv[4], nullptr, 10) < n)
            n = std::strtoul(argv[4], nullptr, 10);
        if (d != router.dim())
            throw avengers::Error(AV_EDIM, "the .npy has " + std::to_string(d) + " columns, the router " +
                                               std::to_string(router.dim()));
        std::vector<int32_t> picks = router.route_batch(x.data(), n, alpha);
        std::vector<std::string> names = router.models();
        for (std::size_t i = 0; i < n; i++)
            std::cout << i << '\t' << names[static_cast<std::size_t>(picks[i])] << '\n';
    } catch (const avengers::Error &e) {
        std::cerr << "error " << e.code() << ": " << e.what() << '\n';
        return 1;
    } catch (const std::exception &e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
    return 0;
}
