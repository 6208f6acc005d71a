// Command hello-go is the program the melange-go example packages.
package main

import "fmt"

var version = "dev"

func main() {
	fmt.Printf("hello from go, version %s\n", version)
}
