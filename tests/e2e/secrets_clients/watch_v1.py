"""Reads one secret through ``aliyun-secret-manager-client`` (v1: the old SDK core, V1
signature, HTTPS with verification off) pointed at openkms by ``RegionInfo(endpoint=host:port)``
(§6.1), prints the value, then prints each new value the client's refresh brings, until killed.

argv: port access_key_id access_key_secret region secret_name ttl_ms
"""

import sys
import time

from alibaba_cloud_secretsmanager_client.secret_manager_cache_client_builder import \
    SecretManagerCacheClientBuilder
from alibaba_cloud_secretsmanager_client.service.default_secret_manager_client_builder import \
    DefaultSecretManagerClientBuilder
from alibaba_cloud_secretsmanager_client.model.region_info import RegionInfo

port, ak, sk, region, name, ttl = sys.argv[1:7]
inner = (DefaultSecretManagerClientBuilder.standard()
         .with_access_key(ak, sk)
         .add_region_info(RegionInfo(region_id=region, endpoint=f"127.0.0.1:{port}"))
         .build())
client = (SecretManagerCacheClientBuilder.new_cache_client_builder(inner)
          .with_secret_ttl(name, int(ttl)).build())
last = None
while True:
    value = client.get_secret_info(name).secret_value
    if value != last:
        print(value, flush=True)
        last = value
    time.sleep(0.2)
