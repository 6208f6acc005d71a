package main

import "fmt"

func runMelange(args []string) error { return fmt.Errorf("not yet") }
