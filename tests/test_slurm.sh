#!/usr/bin/env bash
# The demo pipeline on a real one-node Slurm (Debian's slurmctld, slurmd and
# munge, started here with a config in a temporary folder, non-default
# ports): `launch slurm --submit` gives the digest of a local run; an input
# that vanishes before its clean task runs fails that task, Slurm cancels
# every step after it, `status` shows the failed task's log, and launching
# again after the file is back runs only what is unfinished. Job states are
# not trusted (see PLATFORM.md): the outputs are checked. Every daemon this
# script started is stopped by its pid, also when a check fails.
source "$(dirname "$0")/lib.sh"

for b in slurmctld slurmd sbatch squeue scontrol munged munge unmunge; do
  command -v "$b" >/dev/null || fail "$b is not installed (scripts/setup.sh installs slurmctld slurmd slurm-client munge)"
done
t_start=$(date +%s.%N)
SL=$WORK/slurm
mkdir -p "$SL/state" "$SL/spool" "$SL/log"
PIDS=()
stop_all() {
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SL/slurmctld.pid" ]; then
    scancel --full --quiet "$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
    scontrol shutdown >/dev/null 2>&1 || true
    sleep 0.3
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap stop_all EXIT

# ---- munge: reuse a running munged, else start one as the munge user ----
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 755 /run/munge
  [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=128 of=/etc/munge/munge.key 2>/dev/null;
                                   chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  setpriv --reuid=munge --regid=munge --init-groups munged -F >"$SL/log/munged.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || fail "munged did not start: $(cat "$SL/log/munged.log")"
fi

# ---- slurmctld + slurmd ----
cat > "$SL/slurm.conf" <<EOF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
DependencyParameters=kill_invalid_depend
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/log/slurmctld.log
SlurmdLogFile=$SL/log/slurmd.log
NodeName=localhost CPUs=4 Sockets=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$SL/slurm.conf
slurmctld -D -f "$SLURM_CONF" >"$SL/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$SL/log/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
  sleep 0.1
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || fail "slurm did not come up: $(sinfo 2>&1; tail -5 "$SL/log/slurmctld.log" "$SL/log/slurmd.log")"
t_up=$(date +%s.%N)

# wait_jobs: until no job is pending or running (squeue polls fast; sbatch --wait does not)
wait_jobs() {
  for _ in $(seq 1 1200); do
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  squeue; fail "jobs did not finish in 120 s"
}
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' '; }

cp -r "$SRC/sample" "$SRC/configs" .
sed -i 's/max_malformed_fraction: 0.01/max_malformed_fraction: 0.05/' configs/demo.yaml

# ---- the demo through Slurm equals the demo run locally ----
"$CM" run configs/demo.yaml --out local --tasks 3 -j 2 --progress none 2>/dev/null || fail "local run"
"$CM" digest local > local.digest
"$CM" launch slurm configs/demo.yaml --out viaslurm --tasks 3 --cpus-per-task 1 --submit > jobs.tsv 2>launch.err \
  || fail "launch: $(cat launch.err)"
assert_eq "$(wc -l < jobs.tsv)" 11 "one job array per step, and the report's job"
assert_eq "$(ls viaslurm/slurm/*.sbatch | wc -l)" 11 "one script per step, and the report's"
grep -q -- '--array=0-2' viaslurm/slurm/01-clean.sbatch || fail "clean's array"
wait_jobs
"$CM" digest viaslurm > slurm.digest
diff local.digest slurm.digest || fail "Slurm's result differs from the local run"
"$CM" status viaslurm | grep -q "every started stage has finished" || fail "status after the Slurm run"
[ -s viaslurm/report.html ] || fail "the last job wrote no report.html"
grep -q 'id="report-data"' viaslurm/report.html || fail "report.html is not the run report"
# array specs like 0-2 or 0-14: as many logs as tasks
tasks_total=$(cut -f3 jobs.tsv | tr ',' '\n' | awk -F- '{n += (NF == 2 ? $2 - $1 + 1 : 1)} END {print n}')
assert_eq "$(ls viaslurm/slurm/logs | wc -l)" "$tasks_total" "a log per array task"
t_first=$(date +%s.%N)

# ---- a task fails: what follows is cancelled; a second launch finishes the rest ----
# task 1 of clean reads files 1 and 4 of the sorted sample; hold the jobs, take file 1 away, release
"$CM" launch slurm configs/demo.yaml --out broken --tasks 3 --submit --hold > jobs2.tsv 2>launch2.err \
  || fail "launch --hold: $(cat launch2.err)"
victim=$(tail -n +2 broken/_done/clean/_inputs.tsv | sed -n 2p | cut -f3)
mv "$victim" held.file
scontrol release "$(cut -f2 jobs2.tsv | paste -sd,)" >/dev/null
wait_jobs
clean_job=$(awk -F'\t' '$1 == "clean" {print $2}' jobs2.tsv)
embed_job=$(awk -F'\t' '$1 == "embed" {print $2}' jobs2.tsv)
assert_contains "$(job_state "$clean_job")" "FAILED" "the clean array has a failed task"
assert_contains "$(job_state "$embed_job")" "CANCELLED" "a later step was cancelled"
[ ! -e broken/_done/clean/00001 ] || fail "the failed task has a marker"
[ -e broken/_done/clean/00000 ] && [ -e broken/_done/clean/00002 ] || fail "the other clean tasks finished"
[ ! -d broken/_done/dedup_signatures ] || [ -z "$(ls broken/_done/dedup_signatures | grep '^[0-9]' || true)" ] \
  || fail "dedup ran after a failed clean"
"$CM" status broken > status.txt
cat status.txt
assert_eq "$(awk '$1 == "clean" {print $2}' status.txt)" "2/3" "status: clean has a task missing"
assert_contains "$(cat status.txt)" "vanished since the run listed it" "status shows the failed task's log"
mv held.file "$victim"
"$CM" launch slurm configs/demo.yaml --out broken --tasks 3 --submit > jobs3.tsv 2>launch3.err || fail "relaunch: $(cat launch3.err)"
assert_eq "$(awk -F'\t' '$1 == "clean" {print $3}' jobs3.tsv)" "1" "only the failed clean task is submitted again"
wait_jobs
"$CM" digest broken > broken.digest
diff local.digest broken.digest || fail "the resubmitted run differs from the local run"
[ -z "$(find broken viaslurm -name '*.tmp*' -not -path '*/slurm/*')" ] || fail "temporary files left"
t_end=$(date +%s.%N)
awk -v a="$t_start" -v b="$t_up" -v c="$t_first" -v d="$t_end" 'BEGIN {
  printf "slurm: up %.1f s, first pipeline %.1f s, failure + resubmission %.1f s, whole cycle %.1f s\n", b - a, c - b, d - c, d - a }'
echo ok
