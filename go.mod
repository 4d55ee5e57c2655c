module github.com/healthcode/healthcode

go 1.26.8
