#!/usr/bin/env bash
# A real single-node Slurm on this machine, to try the cluster scripts before a real cluster and for the
# test suite:
#
#   bash scripts/cluster/local-slurm.sh COMMAND [ARG...]      # e.g. `... local-slurm.sh bash` for a shell
#
# 1. installs Debian's `slurm-wlm` and `munge` when a program is missing (as root; one `apt-get update`);
# 2. writes a munge key and a minimal slurm.conf into a private state folder: node `localhost` with
#    LOCAL_SLURM_CPUS CPUs, partition `local`, proctrack/linuxproc and no cgroups, no
#    accounting database (finished jobs stay visible to `squeue --states=all` and `scontrol` for 10 min),
#    two free TCP ports;
# 3. starts munged, slurmctld and slurmd in the background and waits until `sinfo` shows the node idle;
# 4. runs COMMAND with SLURM_CONF exported, so that sbatch, squeue, scancel and sinfo use this cluster;
# 5. afterwards (also when COMMAND or the start fails, or on Ctrl-C) cancels every job, stops the three
#    daemons by pid, kills what is left of the jobs (processes carrying this run's LOCAL_SLURM_RUN) and
#    removes the state folder (kept when LOCAL_SLURM_KEEP=1).
#
# Environment: LOCAL_SLURM_CPUS (default 2), LOCAL_SLURM_DIR (the state folder: new or empty; default a
# new one under TMPDIR), LOCAL_SLURM_KEEP=1, LOCAL_SLURM_START_TIMEOUT (seconds, default 60).
# Exit status: COMMAND's. When a daemon cannot start or the node does not become idle within
# LOCAL_SLURM_START_TIMEOUT seconds, exits 1 after printing the daemons' own log lines.
# Runs as root (slurmd starts jobs as their user; here SlurmUser is root too). Nothing under /etc is used:
# other Slurm or munge daemons on the machine are left alone.
set -euo pipefail

# A caller can hand down blocked or ignored signals (Swift's Foundation.Process starts children with
# SIGTERM blocked); the daemons would then outlive the teardown's SIGTERM and this script could not trap
# it. So start once more with no signal blocked and the stopping ones at their defaults (perl is in
# Debian's essential set).
if [ -z "${LOCAL_SLURM_SIGNALS_RESET:-}" ] && command -v perl >/dev/null 2>&1; then
    export LOCAL_SLURM_SIGNALS_RESET=1
    exec perl -MPOSIX -e 'sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!\n";
        $SIG{$_} = "DEFAULT" for qw(HUP INT QUIT TERM PIPE);
        exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"' bash "$0" "$@"
fi
unset LOCAL_SLURM_SIGNALS_RESET

if [ $# -eq 0 ]; then
    echo "usage: local-slurm.sh COMMAND [ARG...]" >&2
    exit 2
fi
say() { echo "local-slurm: $*" >&2; }

# --- 1. programs ---------------------------------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin"  # the daemons live there
missing=()
for program in munged sbatch squeue scancel sinfo scontrol slurmctld slurmd; do
    command -v "$program" >/dev/null 2>&1 || missing+=("$program")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "missing ${missing[*]}; install them as root: apt-get install slurm-wlm munge"
        exit 1
    fi
    say "installing slurm-wlm and munge (missing: ${missing[*]})"
    # Debian's packages start their system-wide daemons on install; a policy-rc.d that says no keeps them
    # off (slurmctld and slurmd would fail without /etc/slurm/slurm.conf, munged would stay running).
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    installed=0
    apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null && installed=1
    if [ -n "$made_policy" ]; then
        rm -f /usr/sbin/policy-rc.d
        trap - EXIT
    fi
    if [ "$installed" -ne 1 ]; then
        say "apt-get could not install slurm-wlm and munge"
        exit 1
    fi
fi
if [ "$(id -u)" -ne 0 ]; then
    say "run as root: slurmd must start jobs as their user"
    exit 1
fi

# --- 2. configuration ----------------------------------------------------------------------------------
dir=${LOCAL_SLURM_DIR:-}
if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/local-slurm.XXXXXX")
elif [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    say "LOCAL_SLURM_DIR=$dir is not empty (it is removed afterwards)"
    exit 1
else
    mkdir -p "$dir"
fi
dir=$(cd "$dir" && pwd -P)
chmod 711 "$dir"
# Marks every process of this run (daemons, jobs, COMMAND's children) for the last step of the teardown.
export LOCAL_SLURM_RUN="$dir:$$:$RANDOM$RANDOM"
cpus=${LOCAL_SLURM_CPUS:-2}
memory=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)

port_free() { ! ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .; }
ctld_port=""
for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 30000))
    if port_free "$candidate" && port_free $((candidate + 1)); then
        ctld_port=$candidate
        break
    fi
done
if [ -z "$ctld_port" ]; then
    say "no two free TCP ports found"
    exit 1
fi
slurmd_port=$((ctld_port + 1))

mkdir -p "$dir/munge" "$dir/ctld" "$dir/spool"
chmod 711 "$dir/munge"  # munged wants its socket's folder searchable by all
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 600 "$dir/munge/munge.key"
socket="$dir/munge/munge.socket"
: > "$dir/plugstack.conf"
export SLURM_CONF="$dir/slurm.conf"
cat > "$SLURM_CONF" <<EOF
# Written by scripts/cluster/local-slurm.sh: one node, this machine, for tests.
ClusterName=fusectl-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=2
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# --- 5. teardown (installed before anything starts) -----------------------------------------------------
munged_pid="" ctld_pid="" slurmd_pid=""
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
stop() {  # stop PID...: SIGTERM, up to 10 s, then SIGKILL
    local pid
    for pid in "$@"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
        local left=0
        for pid in "$@"; do alive "$pid" && left=1; done
        [ $left -eq 0 ] && return 0
        sleep 0.1
    done
    for pid in "$@"; do alive "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
    return 0
}
# Processes other than this script whose environment holds this run's LOCAL_SLURM_RUN: the jobs'
# slurmstepd and their programs, and whatever COMMAND left in the background.
leftovers() {
    local file pid
    for file in $(grep -lsxzF "LOCAL_SLURM_RUN=$LOCAL_SLURM_RUN" /proc/[0-9]*/environ); do
        pid=${file#/proc/}
        pid=${pid%/environ}
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] || echo "$pid"
    done
    return 0
}
show_logs() {
    local log
    for log in "$dir/munge/munged.log" "$dir/munged.out" "$dir/slurmctld.log" "$dir/slurmctld.out" \
               "$dir/slurmd.log" "$dir/slurmd.out"; do
        [ -s "$log" ] || continue
        echo "----- ${log#"$dir"/} (last 40 lines)" >&2
        tail -n 40 "$log" >&2
    done
}
teardown() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if alive "$ctld_pid"; then
        scancel --quiet --user="$(id -un)" 2>/dev/null
        for _ in $(seq 50); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop $slurmd_pid $ctld_pid
    mapfile -t rest < <(leftovers)
    [ ${#rest[@]} -gt 0 ] && stop "${rest[@]}"
    stop $munged_pid
    if [ "${LOCAL_SLURM_KEEP:-0}" = 1 ]; then
        say "state kept in $dir"
    else
        rm -rf "$dir"
    fi
    exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 3. daemons ----------------------------------------------------------------------------------------
fail_start() {
    say "$1; the daemons' logs follow"
    show_logs
    exit 1
}
munged --foreground --force --socket="$socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    > "$dir/munged.out" 2>&1 &
munged_pid=$!
for _ in $(seq 100); do
    [ -S "$socket" ] && break
    alive "$munged_pid" || fail_start "munged exited"
    sleep 0.1
done
[ -S "$socket" ] || fail_start "munged did not open $socket within 10 s"

slurmctld -D -i -f "$SLURM_CONF" > "$dir/slurmctld.out" 2>&1 &
ctld_pid=$!
slurmd -D -N localhost -f "$SLURM_CONF" > "$dir/slurmd.out" 2>&1 &
slurmd_pid=$!

timeout=${LOCAL_SLURM_START_TIMEOUT:-60}
deadline=$((SECONDS + timeout))
state=""
while :; do
    alive "$munged_pid" || fail_start "munged exited"
    alive "$ctld_pid" || fail_start "slurmctld exited"
    alive "$slurmd_pid" || fail_start "slurmd exited"
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    [ $SECONDS -ge $deadline ] && fail_start "node localhost not idle after ${timeout} s (sinfo: '${state}')"
    sleep 0.2
done
say "$(sinfo --version) up: node localhost idle, $cpus CPUs, partition local, SLURM_CONF=$SLURM_CONF"

# --- 4. the command ------------------------------------------------------------------------------------
# In the background with `wait`, so that a SIGTERM or SIGINT to this script tears down at once rather than
# after COMMAND ends; `<&0` keeps the terminal as its standard input.
set +e
"$@" <&0 &
wait $!
status=$?
set -e
exit "$status"
