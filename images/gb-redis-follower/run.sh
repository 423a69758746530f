#!/bin/sh
# Follow the leader: by its DNS name (the default), or by the service environment variable that
# the kubelet sets when GET_HOSTS_FROM=env (a cluster without DNS).
set -e
leader=redis-leader
if [ "${GET_HOSTS_FROM:-dns}" = env ]; then
  leader=$REDIS_LEADER_SERVICE_HOST
fi
exec redis-server --protected-mode no --replicaof "$leader" 6379
