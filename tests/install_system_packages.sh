#!/usr/bin/env bash
# Install the Debian packages that the tests run for real: a single-node SLURM
# cluster (slurmctld, slurmd, the client commands, munge) and a headless
# browser for the report (chromium, chromedriver), and Connectome Workbench
# (wb_command) for the individual parcellation. Needs root and apt-get.
set -euo pipefail
packages=(slurmctld slurmd slurm-client munge chromium chromium-driver connectome-workbench)
commands=(slurmctld slurmd sbatch munged chromium chromedriver wb_command)
missing=0
for command in "${commands[@]}"; do
    command -v "$command" >/dev/null || missing=1
done
[[ $missing -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "tests/install_system_packages.sh: the tests need ${packages[*]} from" \
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
