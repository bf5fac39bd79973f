import StowawayCLI

// Everything the command line does lives in the StowawayCLI library, where tests reach it in-process.
await CLI.main()
