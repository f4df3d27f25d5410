"""NPBench (github.com/spcl/npbench) as a benchmark suite for morphism: see README.md here."""
