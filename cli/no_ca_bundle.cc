// specd-git opens repositories on disk and never connects to a remote, but
// git_libgit2_init() of Debian's libgit2 (built with mbedTLS) parses the whole
// system CA bundle (/etc/ssl/certs/ca-certificates.crt, ~140 certificates:
// about 54 million instructions, more than the pre-commit hook's own work)
// for the HTTPS it would do. This definition, exported from the executable
// (cli/CMakeLists.txt), is found before mbedTLS's for libgit2's call and
// loads nothing: an HTTPS connection would then fail its certificate check,
// never pass unchecked. With a libgit2 built on OpenSSL it is never called.
extern "C" int mbedtls_x509_crt_parse_file(void* /*chain*/, const char* /*path*/) {
  return 0;
}
