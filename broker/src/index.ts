// The MQTT contract shared by the hub and the edge agent, and the broker factory.
export {};
