"""A background worker: proves the worker containers reach Redis with the app's environment."""
import os
import time

import redis

cache = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
while True:
    cache.set("worker:heartbeat", int(time.time()))
    time.sleep(5)
