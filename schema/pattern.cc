#include "schema/pattern.h"

#include <cctype>
#include <string>
#include <utility>

namespace specd {

namespace {

struct Ast {
  enum Kind { kSet, kConcat, kAlt, kRepeat } kind = kSet;
  std::bitset<256> set;   // kSet
  std::vector<Ast> kids;  // kConcat, kAlt; kRepeat: one
  int min = 1, max = 1;   // kRepeat; max -1: no bound
};

constexpr int kMaxRepeat = 100;

}  // namespace

// Recursive descent over the subset; `ok` turns false at the first thing
// outside it.
class PatternCompiler {
 public:
  explicit PatternCompiler(std::string_view p) : p_(p) {}

  std::optional<SimplePattern> Compile() {
    SimplePattern out;
    if (!p_.empty() && p_.front() == '^') {
      out.anchored_start_ = true;
      p_.remove_prefix(1);
    }
    if (!p_.empty() && p_.back() == '$' && !EscapedAt(p_.size() - 1)) {
      out.anchored_end_ = true;
      p_.remove_suffix(1);
    }
    Ast ast = Alt();
    if (!ok_ || i_ != p_.size()) return std::nullopt;
    states_.push_back(SimplePattern::State{});  // 0: accept
    out.start_ = Emit(ast, 0);
    if (!ok_ || states_.size() > 20'000) return std::nullopt;
    out.states_ = std::move(states_);
    return out;
  }

 private:
  bool EscapedAt(size_t at) const {
    size_t slashes = 0;
    while (at > slashes && p_[at - slashes - 1] == '\\') ++slashes;
    return slashes % 2 == 1;
  }
  bool More() const { return ok_ && i_ < p_.size(); }
  char Peek() const { return p_[i_]; }
  void Fail() { ok_ = false; }

  Ast Alt() {
    Ast alt{Ast::kAlt};
    alt.kids.push_back(Concat());
    while (More() && Peek() == '|') {
      ++i_;
      alt.kids.push_back(Concat());
    }
    return alt.kids.size() == 1 ? std::move(alt.kids[0]) : alt;
  }

  Ast Concat() {
    Ast cat{Ast::kConcat};
    while (More() && Peek() != '|' && Peek() != ')') {
      Ast atom = Atom();
      if (More() && std::string_view("?*+{").find(Peek()) != std::string_view::npos) {
        Ast rep{Ast::kRepeat};
        Quantifier(&rep.min, &rep.max);
        rep.kids.push_back(std::move(atom));
        atom = std::move(rep);
        // A lazy or a second quantifier: not in the subset.
        if (More() && std::string_view("?*+{").find(Peek()) != std::string_view::npos) Fail();
      }
      cat.kids.push_back(std::move(atom));
    }
    return cat;
  }

  void Quantifier(int* min, int* max) {
    char c = p_[i_++];
    if (c == '?') {
      *min = 0, *max = 1;
    } else if (c == '*') {
      *min = 0, *max = -1;
    } else if (c == '+') {
      *min = 1, *max = -1;
    } else {
      *min = Number();
      *max = *min;
      if (More() && Peek() == ',') {
        ++i_;
        *max = More() && Peek() == '}' ? -1 : Number();
      }
      if (!More() || Peek() != '}') return Fail();
      ++i_;
      if (*max != -1 && *max < *min) Fail();
    }
  }

  int Number() {
    int n = 0;
    size_t digits = 0;
    while (More() && std::isdigit(static_cast<unsigned char>(Peek())) && digits < 4) {
      n = n * 10 + (p_[i_++] - '0');
      ++digits;
    }
    if (digits == 0 || n > kMaxRepeat) Fail();
    return n;
  }

  // A byte after a backslash: escaped punctuation only.
  int Escaped() {
    if (!More()) return Fail(), 0;
    unsigned char c = static_cast<unsigned char>(p_[i_++]);
    if (std::isalnum(c) || c >= 0x80) Fail();
    return c;
  }

  Ast Atom() {
    Ast a{Ast::kSet};
    unsigned char c = static_cast<unsigned char>(p_[i_++]);
    if (c == '(') {
      if (More() && Peek() == '?') Fail();  // lookaround, non-capturing: not here
      a = Alt();
      if (!More() || Peek() != ')') Fail();
      ++i_;
    } else if (c == '[') {
      Class(&a.set);
    } else if (c == '\\') {
      a.set.set(Escaped());
    } else if (c >= 0x80 ||
               std::string_view(".^$)|*+?{}]").find(static_cast<char>(c)) != std::string_view::npos) {
      Fail();
    } else {
      a.set.set(c);
    }
    return a;
  }

  void Class(std::bitset<256>* set) {
    if (More() && (Peek() == '^' || Peek() == ']')) return Fail();
    while (More() && Peek() != ']') {
      int lo = ClassByte();
      if (More() && Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        int hi = ClassByte();
        if (hi < lo) return Fail();
        for (int b = lo; b <= hi; ++b) set->set(b);
      } else {
        set->set(lo);
      }
    }
    if (!More()) return Fail();
    ++i_;  // ']'
  }

  int ClassByte() {
    unsigned char c = static_cast<unsigned char>(p_[i_++]);
    if (c == '\\') return Escaped();
    if (c == '[' || c >= 0x80) Fail();
    return c;
  }

  int Add(SimplePattern::State s) {
    states_.push_back(std::move(s));
    if (states_.size() > 20'000) Fail();
    return static_cast<int>(states_.size()) - 1;
  }

  // The states that match `a` and then go on to `next`; returns the first.
  int Emit(const Ast& a, int next) {
    if (!ok_) return 0;
    switch (a.kind) {
      case Ast::kSet: {
        SimplePattern::State s;
        s.kind = SimplePattern::State::kByte;
        s.bytes = a.set;
        s.out = next;
        return Add(std::move(s));
      }
      case Ast::kConcat: {
        int s = next;
        for (size_t k = a.kids.size(); k-- > 0;) s = Emit(a.kids[k], s);
        return s;
      }
      case Ast::kAlt: {
        int s = Emit(a.kids.back(), next);
        for (size_t k = a.kids.size() - 1; k-- > 0;) s = Split(Emit(a.kids[k], next), s);
        return s;
      }
      case Ast::kRepeat: {
        const Ast& x = a.kids[0];
        int s = next;
        if (a.max == -1) {
          int loop = Split(-1, next);
          states_[loop].out = Emit(x, loop);
          s = loop;
        } else {
          for (int k = a.min; k < a.max; ++k) s = Split(Emit(x, s), next);
        }
        for (int k = 0; k < a.min; ++k) s = Emit(x, s);
        return s;
      }
    }
    return next;
  }

  int Split(int a, int b) {
    SimplePattern::State s;
    s.kind = SimplePattern::State::kSplit;
    s.out = a;
    s.alt = b;
    return Add(std::move(s));
  }

  std::string_view p_;
  size_t i_ = 0;
  bool ok_ = true;
  std::vector<SimplePattern::State> states_;
};

std::optional<SimplePattern> SimplePattern::Compile(std::string_view pattern) {
  return PatternCompiler(pattern).Compile();
}

bool SimplePattern::Search(std::string_view text) const {
  // The set of states after each byte (Thompson's simulation): no
  // backtracking, so no input is slow.
  std::vector<int> current, next;
  std::vector<size_t> seen(states_.size(), SIZE_MAX);
  size_t step = 0;
  bool accepted = false;
  auto add = [&](auto&& self, std::vector<int>* set, int s) -> void {
    if (seen[s] == step) return;
    seen[s] = step;
    const State& st = states_[s];
    if (st.kind == State::kSplit) {
      self(self, set, st.out);
      self(self, set, st.alt);
    } else {
      if (st.kind == State::kAccept) accepted = true;
      set->push_back(s);
    }
  };
  add(add, &current, start_);
  for (size_t i = 0;; ++i) {
    if (accepted && (!anchored_end_ || i == text.size())) return true;
    if (i == text.size()) return false;
    accepted = false;
    ++step;
    next.clear();
    unsigned char c = static_cast<unsigned char>(text[i]);
    for (int s : current) {
      const State& st = states_[s];
      if (st.kind == State::kByte && st.bytes[c]) add(add, &next, st.out);
    }
    if (!anchored_start_) add(add, &next, start_);  // a match may start at i + 1
    std::swap(current, next);
    if (current.empty()) return false;
  }
}

}  // namespace specd
