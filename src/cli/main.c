#include <stdio.h>
int main(void) { puts("t2g"); return 0; }
