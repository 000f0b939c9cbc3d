# A vocab.txt with a duplicated token: loads; the token takes its last id, as Hugging Face's load_vocab.
setup() { model_copy m; sed -n 20p m/vocab.txt >> m/vocab.txt; }
cmd=(embed-text --model m); stdin="hello"; rc=0; err=""
check() { true; }
