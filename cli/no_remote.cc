// specd-hook links libgit2 and its libraries from their archives (a hook's
// time was mostly the loading of ~20 shared libraries: cli/CMakeLists.txt).
// It reads the repository on disk and never connects to a remote, so two
// things libgit2 would do for HTTPS are cut here, as cli/no_ca_bundle.cc
// does for the shared build:
// - git_libgit2_init() parses the system CA bundle (54 million
//   instructions): the linker sends libgit2's call here (--wrap), which
//   loads nothing; an HTTPS certificate check would then fail, never pass.
// - GSSAPI (Kerberos "Negotiate" HTTP authentication) would bring in
//   libgssapi_krb5 and five more shared libraries, which Debian ships no
//   archive of: every call fails, so libgit2 reports Negotiate unavailable.
#include <cstdint>

extern "C" {

int __wrap_mbedtls_x509_crt_parse_file(void* /*chain*/, const char* /*path*/) {
  return 0;
}

namespace {
constexpr uint32_t kGssFailure = 13u << 16;  // GSS_S_FAILURE
uint32_t Fail(uint32_t* minor) {
  if (minor) *minor = 0;
  return kGssFailure;
}
}  // namespace

void* GSS_C_NT_HOSTBASED_SERVICE = nullptr;

uint32_t gss_delete_sec_context(uint32_t* minor, void*, void*) {
  return Fail(minor);
}
uint32_t gss_display_status(uint32_t* minor, uint32_t, int, void*, uint32_t*, void*) {
  return Fail(minor);
}
uint32_t gss_import_name(uint32_t* minor, void*, void*, void*) {
  return Fail(minor);
}
uint32_t gss_indicate_mechs(uint32_t* minor, void*) {
  return Fail(minor);
}
uint32_t gss_init_sec_context(uint32_t* minor, void*, void*, void*, void*, uint32_t, uint32_t, void*, void*,
                              void*, void*, uint32_t*, uint32_t*) {
  return Fail(minor);
}
uint32_t gss_release_buffer(uint32_t* minor, void*) {
  return Fail(minor);
}
uint32_t gss_release_name(uint32_t* minor, void*) {
  return Fail(minor);
}
uint32_t gss_release_oid_set(uint32_t* minor, void*) {
  return Fail(minor);
}

}  // extern "C"
