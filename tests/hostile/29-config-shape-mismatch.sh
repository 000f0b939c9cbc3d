# config.json says hidden_size 64 while the weights are 32 wide: exit 2 naming the tensor and both shapes.
setup() { model_copy m; python3 -c "
import json; c = json.load(open('m/config.json')); c['hidden_size'] = c['hidden_size'] * 2; json.dump(c, open('m/config.json', 'w'))"; }
cmd=(embed-text --model m); stdin="hello"; rc=2; err="shape"
check() { true; }
