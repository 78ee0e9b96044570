#!/usr/bin/env bash
# Install the Debian packages of a single-node SLURM cluster for the tests:
# slurmctld, slurmd, the client commands and munge. Needs root and apt.
set -euo pipefail
packages=(slurmctld slurmd slurm-client munge)
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "tests/slurm/install.sh: the SLURM test needs ${packages[*]} from" \
        "Debian's packages, installed as root with apt-get" >&2
    exit 1
fi
apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"
}
apt_get install "${packages[@]}" >/dev/null || {
    apt_get update >/dev/null
    apt_get install "${packages[@]}" >/dev/null
}
