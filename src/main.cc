#include <cstdio>
int main() { std::puts("wxpay-reconciler: under construction"); return 70; }
