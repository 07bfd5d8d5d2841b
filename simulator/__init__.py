"""The simulator is an outside fleet: households and appliances with usage, faults and
ground truth, publishing over MQTT. It knows the protocol and the models, nothing else."""
