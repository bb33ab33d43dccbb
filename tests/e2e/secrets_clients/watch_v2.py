"""Reads one secret through ``alibabacloud-secretsmanager-client-v2`` (the Tea SDK, V3
signature, HTTPS verified against openkms's CA) pointed at openkms with a full
``open_api_models.Config(endpoint=host:port, protocol="https", ca=…)`` (§6.2), prints the value,
then prints each new value the client's refresh brings, until killed.

argv: port ca_path access_key_id access_key_secret region secret_name ttl_ms
"""

import sys
import time

from alibabacloud_secretsmanager_client_v2.secret_manager_cache_client_builder import \
    SecretManagerCacheClientBuilder
from alibabacloud_secretsmanager_client_v2.service.default_secret_manager_client_builder import \
    DefaultSecretManagerClientBuilder
from alibabacloud_tea_openapi import models as open_api_models

port, ca, ak, sk, region, name, ttl = sys.argv[1:8]
config = open_api_models.Config(access_key_id=ak, access_key_secret=sk, region_id=region,
                                endpoint=f"127.0.0.1:{port}", protocol="https", ca=ca)
inner = DefaultSecretManagerClientBuilder.standard().add_config(config).build()
client = (SecretManagerCacheClientBuilder.new_cache_client_builder(inner)
          .with_secret_ttl(name, int(ttl)).build())
last = None
while True:
    value = client.get_secret_info(name).secret_value
    if value != last:
        print(value, flush=True)
        last = value
    time.sleep(0.2)
