<?php
// The guestbook API of the Kubernetes sample frontend (gb-frontend:v5), written for kubelite:
//   guestbook.php?cmd=set&key=K&value=V  writes V to the redis leader  -> {"message": "Updated"}
//   guestbook.php?cmd=get&key=K          reads K from a redis follower -> {"data": "V"}
// `key` defaults to "guestbook" (the sample's key); GET or POST parameters both work. Redis
// hosts are the services' DNS names, or their *_SERVICE_HOST variables when GET_HOSTS_FROM=env.

function redis_host(string $service): string
{
    if (getenv('GET_HOSTS_FROM') === 'env') {
        $address = getenv(strtoupper(str_replace('-', '_', $service)) . '_SERVICE_HOST');
        if ($address !== false && $address !== '') {
            return $address;
        }
    }
    return $service;
}

function redis_for(string $service): Redis
{
    $client = new Redis();
    $client->connect(redis_host($service), 6379, 2.0);
    return $client;
}

header('Content-Type: application/json');
$cmd = $_REQUEST['cmd'] ?? '';
$key = $_REQUEST['key'] ?? 'guestbook';
try {
    if ($cmd === 'set') {
        redis_for('redis-leader')->set($key, $_REQUEST['value'] ?? '');
        print(json_encode(['message' => 'Updated']));
    } elseif ($cmd === 'get') {
        $value = redis_for('redis-follower')->get($key);
        print(json_encode(['data' => $value === false ? '' : $value]));
    } else {
        http_response_code(400);
        print(json_encode(['error' => 'cmd must be get or set']));
    }
} catch (RedisException $e) {
    http_response_code(503);
    print(json_encode(['error' => $e->getMessage()]));
}
