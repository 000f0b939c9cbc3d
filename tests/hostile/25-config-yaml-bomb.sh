# A YAML billion-laughs (aliases of aliases, 9^9 nodes): refused at 100,000 nodes, in bounded time and memory.
setup() {
  echo 'a: &a ["x","x","x","x","x","x","x","x","x"]' > c.yaml
  prev=a
  for n in b c d e f g h i; do echo "$n: &$n [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]" >> c.yaml; prev=$n; done
  echo 'input: {paths: [x]}' >> c.yaml
}
cmd=(clean c.yaml); rc=2; err="expands to more than 100000 nodes"; max_rss_mb=100
check() { true; }
