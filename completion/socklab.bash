# bash completion for socklab: written in the next commit.
