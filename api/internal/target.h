// Copyright 2026 The mp Authors.
//
// How a child finds the code it runs — identically under fork and spawn.
//
// A spawned child (posix-spawn, win32) is a fresh copy of the *same binary*:
// every module is loaded again, possibly at another address (ASLR), but each
// function sits at the same offset inside the same module. So a target is
// named by a CodeRef — (module path, offset) — instead of a pointer or a
// registered name. This needs no macro and no registration: any plain
// function or captureless lambda works, and a capturing lambda is rejected at
// compile time (its captures could not reach a spawned child).
//
// Two code addresses are sent: the target function itself, and the invoker,
// a template instantiation that decodes the target's arguments with the
// codec and calls it. The child resolves both CodeRefs against its own
// loaded modules and checks that each lands inside executable code of that
// module before calling anything. A target in a module the child does not
// load at start (e.g. a plugin loaded with dlopen/LoadLibrary) cannot be
// found there; Start() rejects it for *every* start method, fork included,
// so a program accepted under fork is also accepted under spawn.
//
// Fork children use the same invoker and the same encoded arguments, so the
// argument values a target sees never depend on the start method.

#ifndef MP_INTERNAL_TARGET_H_
#define MP_INTERNAL_TARGET_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "mp/codec.h"

namespace mp {
namespace internal {

// Calls `target` (type-erased) with arguments decoded from `args`, taking
// the OS handles they refer to from `handles`; handles not taken are closed
// before the target runs.
using InvokerFn = absl::Status (*)(void (*target)(), absl::string_view args,
                                   HandleTable* handles);

// A decoded argument as the target's parameter of type P takes it: a
// reference parameter (T& or const T&) refers to the child's decoded copy,
// which lives until the target returns; any other parameter is moved from
// it.
template <typename P, typename V>
decltype(auto) AsParameter(V& value) {
  if constexpr (std::is_lvalue_reference_v<P>) {
    return (value);
  } else {
    return std::move(value);
  }
}

// The decoding half of a function target R(P...): instantiated by the
// Process constructor, so it exists in every copy of the binary. The
// arguments travel as one std::tuple of the parameters' decayed types. A
// return value is ignored, as Python ignores run()'s.
template <typename R, typename... P>
absl::Status Invoke(void (*target)(), absl::string_view args,
                    HandleTable* handles) {
  absl::StatusOr<std::tuple<std::decay_t<P>...>> values =
      FromBytes<std::tuple<std::decay_t<P>...>>(args, handles);
  handles->CloseUntaken();
  if (!values.ok()) return values.status();
  auto fn = reinterpret_cast<R (*)(P...)>(target);
  std::apply([fn](auto&... v) { (void)fn(AsParameter<P>(v)...); }, *values);
  return absl::OkStatus();
}

// Whether arguments A... convert to parameters P... one by one; false, not
// an error, when the counts differ.
template <typename Ps, typename As, typename = void>
struct ArgumentsConvert : std::false_type {};
template <typename... P, typename... A>
struct ArgumentsConvert<std::tuple<P...>, std::tuple<A...>,
                        std::enable_if_t<sizeof...(P) == sizeof...(A)>>
    : std::bool_constant<(std::is_constructible_v<std::decay_t<P>, A&&> &&
                          ...)> {};

// What a target's function pointer type says: kIsFunction, and for a
// function R(P...) (noexcept or not, not C variadic) its Pointer type
// R (*)(P...) and its Params, std::tuple<P...>.
template <typename Fn>
struct FunctionSignature {
  static constexpr bool kIsFunction = false;
  using Params = std::tuple<>;
};
template <typename R, typename... P>
struct FunctionSignature<R (*)(P...)> {
  static constexpr bool kIsFunction = true;
  using Pointer = R (*)(P...);
  using Params = std::tuple<P...>;
};
template <typename R, typename... P>
struct FunctionSignature<R (*)(P...) noexcept>
    : FunctionSignature<R (*)(P...)> {};

// The signature of a Process target F: a function pointer, or what unary +
// turns F into (a captureless, non-generic lambda becomes a function
// pointer). Anything else is not a function.
template <typename F, typename = void>
struct TargetSignature : FunctionSignature<void> {};
template <typename F>
struct TargetSignature<F, std::void_t<decltype(+std::declval<F>())>>
    : FunctionSignature<decltype(+std::declval<F>())> {};

// What the child needs of each value it decodes, of type std::decay_t<T>:
// not a pointer (what it points to would not exist in the child), a
// complete type, a codec, and a default constructor (decoding assigns into
// a default instance).
template <typename T>
struct NotPointer : std::negation<std::is_pointer<std::decay_t<T>>> {};
template <typename T, typename = void>
struct Complete : std::false_type {};
template <typename T>
struct Complete<T, std::void_t<decltype(sizeof(std::decay_t<T>))>>
    : std::true_type {};
template <typename T>
struct Encodable : codec_internal::IsEncodable<std::decay_t<T>> {};
template <typename T>
struct DefaultConstructible : std::is_default_constructible<std::decay_t<T>> {};
template <template <typename...> class Check, typename Types>
struct AllOf;
template <template <typename...> class Check, typename... T>
struct AllOf<Check, std::tuple<T...>> : std::conjunction<Check<T>...> {};

// The checks on a function target F called with arguments A..., in the
// order Process reports them. Each includes the ones before it, and is
// evaluated only if those pass (std::conjunction), so a misuse fails
// exactly one, and evaluating them is never an error itself. kValid when
// all pass.
template <typename F, typename... A>
struct FunctionTargetCheck {
  using Signature = TargetSignature<F>;
  using Params = typename Signature::Params;
  using IsFunction = std::bool_constant<Signature::kIsFunction>;
  using CountMatches = std::conjunction<
      IsFunction,
      std::bool_constant<std::tuple_size_v<Params> == sizeof...(A)>>;
  using NoPointer = std::conjunction<CountMatches, AllOf<NotPointer, Params>>;
  using AllComplete = std::conjunction<NoPointer, AllOf<Complete, Params>>;
  using AllEncodable = std::conjunction<AllComplete, AllOf<Encodable, Params>>;
  using AllDefaultConstructible =
      std::conjunction<AllEncodable, AllOf<DefaultConstructible, Params>>;
  using ArgumentsConvertToParams =
      std::conjunction<AllDefaultConstructible,
                       ArgumentsConvert<Params, std::tuple<A...>>>;
  static constexpr bool kIsFunction = IsFunction::value;
  static constexpr bool kCountMatches = CountMatches::value;
  static constexpr bool kNoPointer = NoPointer::value;
  static constexpr bool kComplete = AllComplete::value;
  static constexpr bool kEncodable = AllEncodable::value;
  static constexpr bool kDefaultConstructible = AllDefaultConstructible::value;
  static constexpr bool kArgumentsConvert = ArgumentsConvertToParams::value;
  static constexpr bool kValid = kArgumentsConvert;
};

// The same for class style: D built from the decayed arguments A... (Base
// is mp::Process).
template <typename Base, typename D, typename... A>
struct ClassTargetCheck {
  using Values = std::tuple<std::decay_t<A>...>;
  using Derives = std::is_base_of<Base, D>;
  using Constructible =
      std::conjunction<Derives, std::is_constructible<D, std::decay_t<A>...>>;
  using NoPointer = std::conjunction<Constructible, AllOf<NotPointer, Values>>;
  using AllEncodable = std::conjunction<NoPointer, AllOf<Encodable, Values>>;
  using AllDefaultConstructible =
      std::conjunction<AllEncodable, AllOf<DefaultConstructible, Values>>;
  static constexpr bool kDerives = Derives::value;
  static constexpr bool kConstructible = Constructible::value;
  static constexpr bool kNoPointer = NoPointer::value;
  static constexpr bool kEncodable = AllEncodable::value;
  static constexpr bool kDefaultConstructible = AllDefaultConstructible::value;
  static constexpr bool kValid = kDefaultConstructible;
};

// The class-style invoker: builds a D from the decoded constructor arguments
// and runs it. `unused` is the invoker itself (a class has no function).
template <typename D, typename... A>
absl::Status ConstructAndRun(void (*unused)(), absl::string_view args,
                             HandleTable* handles) {
  (void)unused;
  absl::StatusOr<std::tuple<A...>> values =
      FromBytes<std::tuple<A...>>(args, handles);
  handles->CloseUntaken();
  if (!values.ok()) return values.status();
  D process = std::make_from_tuple<D>(*std::move(values));
  process.Run();
  return absl::OkStatus();
}

// The invokers this program contains. Each invoker mp instantiates for a
// Process registers itself during static initialisation, in every copy of
// the binary, so a spawned child can refuse a launch whose invoker is any
// other code (a forged launch naming, say, libc's system()).
void RegisterInvoker(InvokerFn invoker);
bool IsInvoker(const void* address);
template <InvokerFn kInvoker>
struct InvokerRegistration {
  static const bool registered;
};
template <InvokerFn kInvoker>
const bool InvokerRegistration<kInvoker>::registered =
    (RegisterInvoker(kInvoker), true);

// What mp::Exit() throws (mp/process.h); RunTarget catches it.
struct ExitRequest {
  int code;
};

// Whether the calling thread is running a Process target (inside
// os::RunTarget), i.e. whether mp::Exit() can end just that target.
bool InTarget();

// A code address that another instance of the same binary can resolve.
struct CodeRef {
  std::string module;   // path of the loaded module holding the code
  uint64_t offset = 0;  // from that module's load base
};

}  // namespace internal

template <>
struct Codec<internal::CodeRef> {
  static void Encode(Encoder& e, const internal::CodeRef& r) {
    mp::Encode(e, r.module);
    mp::Encode(e, r.offset);
  }
  static absl::Status Decode(Decoder& d, internal::CodeRef& r) {
    absl::Status s = mp::Decode(d, r.module);
    return s.ok() ? mp::Decode(d, r.offset) : s;
  }
};

}  // namespace mp

#endif  // MP_INTERNAL_TARGET_H_
