#!/bin/sh
# startup.sh - Amazon MWAA startup script for Floe. MWAA runs it on every
# component (scheduler, workers, web server, DAG processor) before Airflow
# starts; what it exports reaches the DAG processor and the tasks.
# plugins.zip holds the unpacked floe-<version>-linux-x86_64 tarball under
# floe/ (MWAA unzips it to /usr/local/airflow/plugins/). A zip may lose the
# executable bit and the plugins folder may be read-only, so the files are
# copied to FLOE_HOME and made executable there.
set -e
src=${FLOE_PLUGIN_DIR:-/usr/local/airflow/plugins/floe}
FLOE_HOME=${FLOE_HOME:-/usr/local/airflow/floe}
if ! mkdir -p "$FLOE_HOME" 2>/dev/null; then
    FLOE_HOME=/tmp/floe
    mkdir -p "$FLOE_HOME"
fi
cp -R "$src/." "$FLOE_HOME/"
chmod 755 "$FLOE_HOME/bin/floe"
export FLOE_HOME
export FLOE_BIN="$FLOE_HOME/bin/floe"
export PATH="$FLOE_HOME/bin:$PATH"
# The tarball's libcurl looks for CA certificates where Debian keeps them;
# Amazon Linux keeps them here (floe agent reads AWS_CA_BUNDLE).
if [ -z "${AWS_CA_BUNDLE:-}" ] && [ -f /etc/pki/tls/certs/ca-bundle.crt ]; then
    export AWS_CA_BUNDLE=/etc/pki/tls/certs/ca-bundle.crt
fi
# Floe's state (SQLite) and warehouse (DuckDB) live on the worker's disk:
# keep MWAA at one worker (see airflow/README.md).
export FLOE_STATE_DIR=${FLOE_STATE_DIR:-/usr/local/airflow/floe-state}
"$FLOE_BIN" version
