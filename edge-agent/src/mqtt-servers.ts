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
 * or refused, reconnects to the next one (wrapping around). One URL: undefined (mqtt.js uses the
 * URL itself). Each URL's port defaults as its scheme's (1883, 8883, 80, 443); tls:// is mqtts://
 * (mqtt.js takes both in a URL, only mqtts in `servers`).
 */
export function mqttServers(urls: readonly string[]): MqttServer[] | undefined {
  if (urls.length < 2) return undefined;
  return urls.map((value) => {
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
}
