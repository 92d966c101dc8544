"""tensorcalc.calculus"""
