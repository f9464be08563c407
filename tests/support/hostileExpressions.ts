/** The four expressions that used to stop the server (issue 11): a spin, a heap-growing recursion, a huge range, a backtracking regex. */
export const HOSTILE = {
  spin: '($f := function($x){ $f($x) }; $f(1))',
  deepRecursion: '($f := function($x){ 1 + $f($x) }; $f(1))',
  hugeRange: '[1..10000000].($*2)',
  backtracking: '$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)',
};
