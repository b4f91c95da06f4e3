/* test_http_client.c - the HTTP client's process-wide init follows its
 * first URL: plain http gets the lean OpenSSL init (no error strings
 * loaded), https the full one, and https works after either (a local
 * libmicrohttpd TLS server with a fresh self-signed certificate is reached
 * and refused by certificate verification, so the handshake ran). Each
 * case runs in a child: the init is once per process. */
#include "http/client.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "test.h"

/* PEM of `k` or `x` into a NUL-terminated malloc'd string. */
static char *pem(EVP_PKEY *k, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;

    if (b == NULL)
        return NULL;
    if (k ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
          : PEM_write_bio_X509(b, x)) {
        n = BIO_get_mem_data(b, &data);
        out = n > 0 ? strndup(data, (size_t)n) : NULL;
    }
    BIO_free(b);
    return out;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *body,
                              size_t *body_len, void **state)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (*state == NULL) { /* first call: headers only */
        *state = conn;
        return MHD_YES;
    }
    if (*body_len > 0) {
        *body_len = 0;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(2, (void *)"ok",
                                        MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* A child serving https on 127.0.0.1 with a self-signed certificate made
 * there (so this process never touches OpenSSL); its port is written to
 * `fd`. Returns the child's pid. */
static pid_t tls_server(int fd)
{
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name;
    struct MHD_Daemon *d;
    char *kp, *cp;
    int port = 0;

    if (k == NULL || x == NULL)
        _exit(2);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, k, EVP_sha256()) == 0)
        _exit(2);
    kp = pem(k, NULL);
    cp = pem(NULL, x);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0,
                         NULL, NULL, answer, NULL, MHD_OPTION_HTTPS_MEM_KEY,
                         kp, MHD_OPTION_HTTPS_MEM_CERT, cp, MHD_OPTION_END);
    if (d != NULL)
        port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    if (write(fd, &port, sizeof(port)) != (ssize_t)sizeof(port) || d == NULL)
        _exit(2);
    for (;;)
        pause(); /* until killed */
}

/* POST to `url`; true when it failed with a certificate complaint. */
static bool refused_cert(struct floe_http_client *c, const char *url)
{
    char err[FLOE_ERR_LEN] = "";
    struct floe_buf resp;
    long status = 0;
    int rc;

    floe_buf_init(&resp, 4096);
    rc = floe_http_client_post(c, url, NULL, 0, "{}", 2, &status, &resp, err);
    floe_buf_free(&resp);
    if (rc != FLOE_EIO || strstr(err, "certificate") == NULL) {
        fprintf(stderr, "  POST %s: rc %d: %s\n", url, rc, err);
        return false;
    }
    return true;
}

static bool ssl_strings_loaded(void)
{
    return ERR_lib_error_string(ERR_PACK(ERR_LIB_SSL, 0, 0)) != NULL;
}

/* In a child: first URL `first` (http or https), then `https`. */
static void run_case(const char *first, const char *https, bool want_lean)
{
    int status = 0;
    pid_t pid = fork();

    CHECK(pid >= 0);
    if (pid == 0) {
        struct floe_http_client *c = NULL;
        char err[FLOE_ERR_LEN] = "";
        struct floe_buf resp;
        long st = 0;
        int ok = 1;

        floe_buf_init(&resp, 4096);
        ok &= floe_http_client_create(NULL, &c) == FLOE_OK;
        ok &= !ssl_strings_loaded(); /* create touches neither */
        if (strncmp(first, "https:", 6) == 0)
            ok &= refused_cert(c, first);
        else /* nothing listens there: refused, but the init ran */
            ok &= floe_http_client_post(c, first, NULL, 0, "", 0, &st,
                                        &resp, err) == FLOE_EIO;
        ok &= ssl_strings_loaded() == !want_lean;
        ok &= refused_cert(c, https); /* TLS works in both modes */
        ok &= floe_http_global_init(https) == FLOE_OK;
        floe_http_client_destroy(c);
        floe_buf_free(&resp);
        _exit(ok ? 0 : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int tls_port;

static void test_http_first_is_lean(void)
{
    char https[64];

    snprintf(https, sizeof(https), "https://127.0.0.1:%d/", tls_port);
    run_case("http://127.0.0.1:1/", https, true);
}

static void test_https_first_is_full(void)
{
    char https[64];

    snprintf(https, sizeof(https), "https://127.0.0.1:%d/", tls_port);
    run_case(https, https, false);
}

static void test_destroy_unused(void)
{
    struct floe_http_client *c = NULL;

    CHECK(floe_http_client_create(NULL, &c) == FLOE_OK);
    floe_http_client_destroy(c); /* no handle was ever made */
    floe_http_client_destroy(NULL);
}

/* Starts the TLS server for the cases after it. */
static pid_t server_pid;

static void test_start_server(void)
{
    int fds[2];

    CHECK(pipe(fds) == 0);
    server_pid = tls_server(fds[1]);
    CHECK(server_pid > 0);
    CHECK(read(fds[0], &tls_port, sizeof(tls_port)) ==
          (ssize_t)sizeof(tls_port));
    CHECK(tls_port > 0);
    close(fds[0]);
    close(fds[1]);
}

static void test_stop_server(void)
{
    int status = 0;

    CHECK(kill(server_pid, SIGTERM) == 0);
    CHECK(waitpid(server_pid, &status, 0) == server_pid);
}

FLOE_TESTS({ "start_server", test_start_server },
           { "http_first_is_lean", test_http_first_is_lean },
           { "https_first_is_full", test_https_first_is_full },
           { "destroy_unused", test_destroy_unused },
           { "stop_server", test_stop_server })
