/** One broker of SENTINEL_MQTT_URL's list, as mqtt.js's `servers` option takes it. */
export interface MqttServer {
  host: string;
  port: number;
  protocol: 'mqtt' | 'mqtts' | 'tcp' | 'ws' | 'wss';
}

const DEFAULT_PORTS: Readonly<Record<MqttServer['protocol'], number>> = {
  mqtt: 1883,
  tcp: 1883,
  mqtts: 8883,
  ws: 80,
  wss: 443,
};

/**
 * The brokers to try in turn: mqtt.js connects to the first and, each time the connection is lost
 * or refused, reconnects to the next one (wrapping around). The list starts at a place chosen by
 * `deviceId` (`firstServer`), so that a fleet given the same list spreads over its brokers instead
 * of piling onto the first, and a device keeps coming back to the same one. One URL: undefined
 * (mqtt.js uses the URL itself). Each URL's port defaults as its scheme's (1883, 8883, 80, 443);
 * tls:// is mqtts:// (mqtt.js takes both in a URL, only mqtts in `servers`).
 */
export function mqttServers(urls: readonly string[], deviceId: string): MqttServer[] | undefined {
  if (urls.length < 2) return undefined;
  const first = firstServer(deviceId, urls.length);
  const servers = urls.map((value) => {
    const url = new URL(value);
    const scheme = url.protocol.replace(':', '');
    const protocol = (scheme === 'tls' ? 'mqtts' : scheme) as MqttServer['protocol'];
    return {
      // URL keeps an IPv6 literal's brackets; sockets want the bare address.
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : DEFAULT_PORTS[protocol],
      protocol,
    };
  });
  return [...servers.slice(first), ...servers.slice(0, first)];
}

/** Where a device starts in a list of `count` brokers: a hash of its id (FNV-1a), spread evenly. */
export function firstServer(deviceId: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) {
    hash ^= deviceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}
