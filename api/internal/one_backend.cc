// Copyright 2026 The mp Authors.
//
// A program links exactly one backend: //:mp (the OS's processes) or
// //:mp_threads (threads). Both define every function of the backend
// contract, and a static link would quietly take some from one and the
// rest from the other. Each backend links this definition whole, so a
// program that links both fails to link, naming the mistake.

extern "C" {
extern const int mp_program_links_two_backends_link_mp_or_mp_threads_not_both;
const int mp_program_links_two_backends_link_mp_or_mp_threads_not_both = 1;
}
