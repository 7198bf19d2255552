"""The lab-6 Python programs, the anchors of the tools benchmark (run with /usr/bin/python3,
kafka-python 2.0.2):

  producer: KafkaLogProducer exactly as in the lab report (seed 003), driven with delay=0;
  consumer: a kafka-python consumer doing logstat's work (JSON parse, counts per level and
            service, response-time percentiles, status codes, ERROR records to a file).

    bench_tools_lab6.py produce BOOTSTRAP TOPIC N        -> prints {"records": N, "seconds": S}
    bench_tools_lab6.py consume BOOTSTRAP TOPIC GROUP N  -> prints {"records": N, "seconds": S}
"""
import json
import logging
import random
import sys
import time
from datetime import datetime

from kafka import KafkaConsumer, KafkaProducer

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)


class KafkaLogProducer:
    # --- the lab's code, unchanged apart from comments ---
    def __init__(self, bootstrap_servers='localhost:9092'):
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            value_serializer=lambda v: json.dumps(v).encode('utf-8'),
            key_serializer=lambda v: str(v).encode('utf-8') if v else None,
            acks='all',
            retries=3,
            max_in_flight_requests_per_connection=1,
            compression_type='gzip',
            linger_ms=5,
            batch_size=16384
        )
        logger.info(f" Producer connected to Kafka at {bootstrap_servers}")

    def generate_log_entry(self, log_id):
        log_types = ['INFO', 'WARNING', 'ERROR', 'DEBUG']
        services = ['web-server', 'auth-service', 'database', 'api-gateway', 'payment-service']
        messages = [
            'Database connection established',
            'User authentication successful',
            'Database connection failed',
            'API request processed',
            'Payment transaction completed',
            'Memory usage high',
            'Disk space running low',
            'Network latency detected',
            'Cache hit ratio optimal',
            'Failed to send email notification'
        ]
        service = services[log_id % len(services)]
        weights = [0.6, 0.2, 0.15, 0.05]
        level = random.choices(log_types, weights=weights)[0]
        log_entry = {
            'timestamp': datetime.now().isoformat(),
            'timestamp_unix': time.time(),
            'level': level,
            'message': f'{random.choice(messages)} - ID: {log_id}',
            'service': service,
            'ip': f'192.168.1.{random.randint(1, 254)}',
            'user_id': f'user_{random.randint(1000, 9999)}' if random.random() > 0.3 else None,
            'response_time_ms': random.randint(10, 5000) if service in ['web-server', 'api-gateway'] else None,
            'status_code': random.choice([200, 201, 400, 401, 403, 404, 500]) if 'service' in service else None
        }
        if level == 'ERROR':
            log_entry['error_code'] = f'ERR{random.randint(100, 999)}'
            log_entry['stack_trace'] = '... stack trace details ...' if random.random() > 0.5 else None
        return log_entry

    def send_logs(self, topic='kafka-logs', num_logs=100, delay=0.1):
        logger.info(f"Sending {num_logs} logs to topic '{topic}'...")
        success_count = 0
        error_count = 0
        for i in range(num_logs):
            try:
                log_entry = self.generate_log_entry(i)
                key = log_entry['service']
                self.producer.send(topic=topic, key=key, value=log_entry)
                success_count += 1
                if (i + 1) % 10 == 0:
                    logger.info(f"Sent {i + 1}/{num_logs} messages...")
                time.sleep(delay)
            except Exception as e:
                error_count += 1
                logger.error(f"Error sending message {i}: {e}")
        self.producer.flush()
        logger.info("Sending finished!")
        logger.info(f"   Succeeded: {success_count}")
        logger.info(f"   Failed: {error_count}")
        return success_count, error_count

    def close(self):
        self.producer.close()


def produce(bootstrap, topic, n):
    p = KafkaLogProducer(bootstrap)
    t0 = time.monotonic()
    ok, failed = p.send_logs(topic=topic, num_logs=n, delay=0)
    secs = time.monotonic() - t0
    p.close()
    return {"records": ok, "failed": failed, "seconds": secs}


def consume(bootstrap, topic, group, n):
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                      enable_auto_commit=True, consumer_timeout_ms=30000)
    levels, services, status, rts = {}, {}, {}, []
    count = 0
    t_first = None
    with open('/dev/null' if len(sys.argv) < 7 else sys.argv[6], 'a') as errors:
        for msg in c:
            if t_first is None:
                t_first = time.monotonic()
            try:
                r = json.loads(msg.value)
            except ValueError:
                continue
            lvl = r.get('level')
            levels[lvl] = levels.get(lvl, 0) + 1
            svc = r.get('service')
            services[svc] = services.get(svc, 0) + 1
            if r.get('response_time_ms') is not None:
                rts.append(r['response_time_ms'])
            if r.get('status_code') is not None:
                status[r['status_code']] = status.get(r['status_code'], 0) + 1
            if lvl == 'ERROR':
                errors.write(json.dumps(r) + '\n')
            count += 1
            if count >= n:
                break
    t_last = time.monotonic()
    rts.sort()
    pct = {p: rts[min(len(rts) - 1, int(len(rts) * p / 100))] for p in (50, 95, 99)} if rts else {}
    c.close()
    return {"records": count, "seconds": t_last - (t_first or t_last), "levels": levels, "p": pct}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "produce":
        res = produce(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        res = consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    print(json.dumps(res), flush=True)
